// The client side of the CRI streaming server (containerd's, which is the
// kubelet's k8s.io/kubelet/cri/streaming) over WebSocket, as `kubectl exec`
// and `kubectl port-forward` reach it through the API server: the
// `v4.channel.k8s.io` protocol, each binary frame's first byte its channel.
// Exec: 0 stdin, 1 stdout, 2 stderr, 3 the end's status (a JSON
// metav1.Status; a non-zero exit is `NonZeroExitCode` with the code in its
// causes). Port-forward (one port): 0 data, 1 errors, each opened by the
// server with the port as two little-endian bytes.
import WebSocket from 'ws';

const PROTOCOL = 'v4.channel.k8s.io';

export interface StreamedExec { stdout: string; stderr: string; exitCode: number; status: unknown }

/** Runs the exec behind URL (from the CRI's Exec) to its end; stdin, when given, is sent and closed. */
export function streamExec(url: string, stdin?: string, timeoutMs = 90_000): Promise<StreamedExec> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), [PROTOCOL]);
    const out: Buffer[][] = [[], [], [], []];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`exec stream ${url}: no end after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    ws.on('open', () => {
      if (stdin === undefined) return;
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(stdin)]));
      // v4 has no stdin close of its own: the server's reader ends when the connection's read side does not;
      // the programs this runs read a known amount or nothing.
    });
    ws.on('message', (data: Buffer) => {
      if (data.length && data[0]! < out.length) out[data[0]!]!.push(data.subarray(1));
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      const text = (i: number): string => Buffer.concat(out[i]!).toString();
      const statusText = text(3);
      let status: any;
      try {
        status = statusText ? JSON.parse(statusText) : undefined;
      } catch {
        status = statusText;
      }
      const code = status?.status === 'Success' ? 0 : Number(status?.details?.causes?.find((c: { reason?: string }) => c.reason === 'ExitCode')?.message ?? NaN);
      resolve({ stdout: text(1), stderr: text(2), exitCode: code, status });
    });
  });
}

/** Opens the port-forward behind URL (from the CRI's PortForward, one port), sends DATA and returns what comes back until the server closes. */
export function streamPortForward(url: string, port: number, data: string, timeoutMs = 90_000): Promise<{ data: string; errors: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url.replace(/^http/, 'ws'));
    u.searchParams.append('port', String(port));
    const ws = new WebSocket(u, [PROTOCOL]);
    const got: Buffer[][] = [[], []];
    const opened = [false, false];
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`port-forward stream ${url}: no end after ${timeoutMs / 1000} s`));
    }, timeoutMs);
    ws.on('message', (frame: Buffer) => {
      const ch = frame[0]!;
      if (ch > 1) return;
      let body = frame.subarray(1);
      // Each channel's first two bytes are the port it serves.
      if (!opened[ch]) {
        opened[ch] = true;
        if (body.length >= 2 && body.readUInt16LE(0) !== port) reject(new Error(`port-forward: channel ${ch} opened for port ${body.readUInt16LE(0)}`));
        body = body.subarray(2);
        if (ch === 0) ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(data)]));
      }
      got[ch]!.push(body);
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(got[0]!).toString(), errors: Buffer.concat(got[1]!).toString() });
    });
  });
}
