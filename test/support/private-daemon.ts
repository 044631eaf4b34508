// A daemon a test starts for itself (containerd, dockerd): its own
// directories under one temp dir, its own socket, its output in a log file,
// stopped (and waited for) by the test. Never the host's daemon, never its
// paths. Children of the daemon carry the test's leak tag (leaks.ts), so
// whatever survives the stop is found.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './zones.js';

export interface CmdResult { code: number | null; stdout: string; stderr: string }

/** CMD ARGS with a time limit; never throws for a non-zero status. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: '/' });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** An executable that runs this checkout's built lxzone-runc (bin/lxzone-runc.js), with GLOBAL flags first. */
export function runcWrapper(dir: string, global: string[] = []): string {
  const file = join(dir, 'lxzone-runc');
  const flags = global.map((g) => JSON.stringify(g)).join(' ');
  writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'bin', 'lxzone-runc.js'))} ${flags} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

export class PrivateDaemon {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  constructor(readonly name: string, readonly log: string) {}

  start(cmd: string, args: string[]): void {
    const fd = openSync(this.log, 'a');
    try {
      // A session of its own: the daemon's shims and containers are not in our process group.
      this.child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: '/', detached: true });
    } finally {
      closeSync(fd);
    }
    const c = this.child;
    this.exited = new Promise((r) => c.once('exit', () => r()));
    c.on('error', () => undefined);
  }

  get running(): boolean {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Polls READY until it is true; throws with the daemon's log if it exits or READY never holds. */
  async waitReady(ready: () => Promise<boolean>, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    let gone = false;
    void this.exited?.then(() => (gone = true));
    for (;;) {
      if (gone) throw new Error(`${this.name} exited during startup:\n${this.tail()}`);
      if (await ready()) return;
      if (Date.now() > end) throw new Error(`${this.name} did not come up:\n${this.tail()}`);
      await sleep(200);
    }
  }

  tail(n = 30): string {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').slice(-n).join('\n') : '';
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 20_000): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    c.kill('SIGTERM');
    const killed = await Promise.race([this.exited!.then(() => false), sleep(graceMs).then(() => true)]);
    if (killed) {
      c.kill('SIGKILL');
      await this.exited;
    }
  }
}

/**
 * Directories containerd's shims use whatever the daemon's config says
 * (containerd 1.6: shim sockets in /run/containerd/s). Made by us → removed
 * by us once empty; a host containerd's are never touched.
 */
/** containerd 1.6's shim socket for a task: /run/containerd/s/sha256(ADDRESS/NAMESPACE/ID) (runtime/v2/shim SocketAddress). */
export function shimSocket(address: string, namespace: string, id: string): string {
  return join('/run/containerd/s', createHash('sha256').update(join(address, namespace, id)).digest('hex'));
}

export class HostDirsWeMake {
  private readonly made: string[];
  constructor(dirs: string[]) {
    this.made = dirs.filter((d) => !existsSync(d));
  }
  /** Removes the ones that did not exist before, deepest first, if empty. */
  cleanup(): void {
    for (const d of [...this.made].sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        /* not empty (someone else's now) or already gone */
      }
    }
  }
}
