// Section "start" measures the API (startZone() to wait()) and the peer
// started as the shim is (posix_spawn) in a Node process of their own, never
// in the bench's. The spawnSync peers (native, bwrap, proot, the CLI) fork
// the process they run in, and a fork leaves copy-on-write faults to
// whatever that process runs next: measured in one process at chrt -f 10
// (80 rounds), a startZone() right after a spawnSync took 1.4 ms longer start
// to exit, and 1.9 ms longer to return, than one right after a posix_spawn
// (a page fault costs ~10 µs on the bench's VM). Measured in the bench's
// process, each API start paid for the fork before it. The worker
// (start-api-worker.ts) never forks, as a program using the API need not;
// the bench's process only asks it, one request at a time, and keeps its
// interleaving of variants round by round.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../lib/exec.js';

export type ApiRequest =
  | { id: number; op: 'api'; rootfs?: string }
  | { id: number; op: 'posix-spawn'; argv: string[] }
  | { id: number; op: 'compile' };

export interface ApiReply {
  id: number;
  ms: number;
  /** For op 'api': when startZone() returned and each event reached JavaScript, ms from the call. */
  phases?: Record<string, number>;
  error?: string;
}

type Request = ApiRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class ApiWorker {
  private nextId = 1;
  private waiting = new Map<number, { resolve: (r: ApiReply) => void; reject: (e: Error) => void }>();
  private exited: Error | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: ApiReply) => {
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (!w) return;
      if (reply.error !== undefined) w.reject(new Error(reply.error));
      else w.resolve(reply);
    });
    child.on('exit', (code, signal) => {
      this.exited = new Error(`the API bench worker exited (${signal ?? code}) with requests pending`);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
    });
  }

  /** Starts the worker (this process's Node flags, so tsx where the bench runs under it). */
  static start(): ApiWorker {
    const child = fork(join(repoRoot, 'bench', 'sections', 'start-api-worker.ts'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new ApiWorker(child);
  }

  request(req: Request): Promise<ApiReply> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...req, id });
    });
  }

  /** Ends the worker and waits for its exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.disconnect();
    await gone;
  }
}
