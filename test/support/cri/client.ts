// A minimal CRI client for tests: the RuntimeService and ImageService calls
// of test/support/cri/api.proto (a subset of Kubernetes' runtime.v1 API,
// field numbers unchanged) over containerd's gRPC socket, through
// @grpc/grpc-js and @grpc/proto-loader. No CRI client is in Debian 12
// (cri-tools is not packaged) and none is kept on npm; this is what the
// kubelet would send, call by call, and nothing more.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const PROTO = fileURLToPath(new URL('./api.proto', import.meta.url));

type Call = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: any) => void) => void;

export class CriClient {
  private readonly runtime: grpc.Client & Record<string, Call>;
  private readonly image: grpc.Client & Record<string, Call>;

  constructor(socket: string) {
    const def = protoLoader.loadSync(PROTO, { keepCase: false, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const v1 = pkg.runtime.v1;
    this.runtime = new v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
    this.image = new v1.ImageService(`unix://${socket}`, grpc.credentials.createInsecure());
  }

  /** One call of the runtime service; rejects with the server's status and message. */
  call<T = any>(method: string, req: object, timeoutMs = 90_000): Promise<T> {
    return this.invoke(this.runtime, method, req, timeoutMs);
  }

  imageCall<T = any>(method: string, req: object, timeoutMs = 30_000): Promise<T> {
    return this.invoke(this.image, method, req, timeoutMs);
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }

  private invoke<T>(client: grpc.Client & Record<string, Call>, method: string, req: object, timeoutMs: number): Promise<T> {
    const fn = client[method];
    if (typeof fn !== 'function') throw new Error(`no CRI method ${method} in test/support/cri/api.proto`);
    return new Promise((resolve, reject) => {
      fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) reject(new Error(`CRI ${method}: ${grpc.status[err.code] ?? err.code}: ${err.details}`));
        else resolve(res as T);
      });
    });
  }
}
