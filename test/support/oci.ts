// lxzone-runc as tests drive it: a work directory with runc's default
// config (from `lxzone-runc spec`), bundles on a busybox root, and the CLI
// (built, or from source when dist/ is stale) with this harness's --root.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll } from 'vitest';
import { readProcStat } from '../../src/zone/state/proc.js';
import { staleBuild } from './runtime-tools.js';
import { makeBusyboxRoot, repoRoot } from './zones.js';

export interface RuncResult { code: number | null; stdout: string; stderr: string }

/** One lxzone-runc call's limit: a create on a 2-core host at load 30 takes seconds, never this long. */
export const RUNC_CALL_LIMIT_MS = 90_000;

let entry: string[] | undefined;
/**
 * How tests start lxzone-runc: the built entry (bin/lxzone-runc.js: the
 * bundle with its code cache, what containerd calls; a call starts in a
 * fraction of tsx's time, which matters under load) when dist/ is at least
 * as new as every source file, else the source through tsx.
 */
export function runcEntry(): string[] {
  entry ??= staleBuild() === undefined ? [join(repoRoot, 'bin', 'lxzone-runc.js')] : ['--import', 'tsx', join(repoRoot, 'test', 'support', 'runc-entry.ts')];
  return entry;
}

export class OciHarness {
  #work?: string;

  /** Nothing is made here: init() (in beforeAll) makes the work directory /tmp/PREFIX-XXXXXX. */
  constructor(private readonly prefix: string) {}

  get work(): string {
    if (this.#work === undefined) throw new Error(`OciHarness ${this.prefix}: no work directory before init()`);
    return this.#work;
  }

  /** Whether init() has made the work directory (an afterAll after a failed beforeAll finds none). */
  get made(): boolean {
    return this.#work !== undefined;
  }

  get stateDir(): string {
    return join(this.work, 'state');
  }

  /** Makes the work directory and writes spec.json (runc's default config) in it; call once, in beforeAll. */
  async init(): Promise<void> {
    this.#work = mkdtempSync(`/tmp/${this.prefix}-`);
    chmodSync(this.#work, 0o755);
    const r = await this.runc(['spec', '--bundle', this.work]);
    if (r.code !== 0) throw new Error(`lxzone-runc spec failed: ${r.stderr}`);
    writeFileSync(join(this.work, 'spec.json'), readFileSync(join(this.work, 'config.json')));
    rmSync(join(this.work, 'config.json'));
  }

  /** lxzone-runc ARGS; stdout/stderr to a file when the container outlives the command; extraFds become its fds 3, 4, ... */
  runc(args: string[], opts: { out?: string; input?: string; extraFds?: number[] } = {}): Promise<RuncResult> {
    return new Promise((resolve, reject) => {
      const outFd = opts.out ? openSync(opts.out, 'a') : undefined;
      const child = spawn(process.execPath, [...runcEntry(), '--root', this.stateDir, ...args], {
        cwd: repoRoot,
        // extraFds: the child's 3, 4, ... (go-runc's ExtraFiles, for --preserve-fds).
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', outFd ?? 'pipe', outFd ?? 'pipe', ...(opts.extraFds ?? [])],
      });
      if (outFd !== undefined) closeSync(outFd);
      if (opts.input !== undefined) child.stdin!.end(opts.input);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => (stdout += d));
      child.stderr?.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), RUNC_CALL_LIMIT_MS);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** A bundle named NAME on a busybox root with the default config, edited. */
  bundle(name: string, edit: (c: any) => void): string {
    const dir = join(this.work, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const c = JSON.parse(readFileSync(join(this.work, 'spec.json'), 'utf8'));
    // Inside the bundle, so that cleanup() removes it with the work directory.
    c.root.path = makeBusyboxRoot('rootfs-', dir);
    edit(c);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
    return dir;
  }

  /** Removes the work directory (the bundles, their roots, the runtime's state), if init() made one. */
  cleanup(): void {
    if (this.#work !== undefined) rmSync(this.#work, { recursive: true, force: true });
  }
}

/**
 * The harness a test file's tests share: its work directory made and
 * runc's default config written before them (beforeAll, `timeoutMs`), all of
 * it removed after them. `after` runs first, once the directory is there:
 * what the tests may leave (containers to delete, cgroups to remove).
 * Call inside the describe, so that a skipped suite makes nothing.
 */
export function useOciHarness(prefix: string, o: { timeoutMs?: number; after?: () => void | Promise<void>; afterTimeoutMs?: number } = {}): OciHarness {
  const h = new OciHarness(prefix);
  beforeAll(() => h.init(), o.timeoutMs);
  afterAll(async () => {
    try {
      if (h.made) await o.after?.();
    } finally {
      h.cleanup();
    }
  }, o.afterTimeoutMs);
  return h;
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z';
}
