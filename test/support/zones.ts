// Shared helpers for tests that run real zones: a minimal busybox root, the
// CLI as a user runs it, and a check that a zone left nothing behind.
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach } from 'vitest';

export const repoRoot = join(dirname(new URL(import.meta.url).pathname), '..', '..');

/**
 * A directory holding busybox, the libraries it links and applet links: a root a zone can run.
 * Made under PARENT (default the temp dir); whoever asked removes it (or its parent).
 */
export function makeBusyboxRoot(prefix = 'lxzone-root-', parent = tmpdir()): string {
  const root = ownTempDir(mkdtempSync(join(parent, prefix)));
  // mkdtemp makes it 0700: the zone's root (an unprivileged host uid) could not enter it.
  chmodSync(root, 0o755);
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'lib', 'lib64', 'usr', 'work']) {
    mkdirSync(join(root, d), { recursive: true });
  }
  const busybox = execFileSync('sh', ['-c', 'command -v busybox']).toString().trim();
  copyFileSync(busybox, join(root, 'bin', 'busybox'));
  const ldd = execFileSync('ldd', [busybox]).toString();
  for (const m of ldd.matchAll(/(\/\S+)\s+\(0x/g)) {
    const lib = m[1]!;
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  for (const applet of ['sh', 'echo', 'cat', 'ls', 'id', 'hostname', 'uname', 'sleep', 'touch', 'mkdir', 'true', 'false', 'ps', 'kill', 'wc', 'grep', 'mount', 'dmesg']) {
    symlinkSync('busybox', join(root, 'bin', applet));
  }
  execFileSync('sh', ['-c', `printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/:/bin/false\\n' > ${root}/etc/passwd`]);
  execFileSync('sh', ['-c', `printf 'root:x:0:\\nnogroup:x:65534:\\n' > ${root}/etc/group`]);
  execFileSync('sh', ['-c', `printf 'ID=lxzone-test\\n' > ${root}/etc/os-release`]);
  return root;
}

/**
 * A plain rootfs tarball of makeBusyboxRoot()'s tree, for `--image`. Both
 * directories it made are pushed onto `cleanup` (the caller removes them).
 */
export function makeBusyboxImage(tag: number, cleanup: string[]): string {
  const root = makeBusyboxRoot(`lxzone-t${tag}-`);
  const dir = ownTempDir(mkdtempSync(`/tmp/lxz${tag}-img-`));
  cleanup.push(root, dir);
  const archive = join(dir, 'img.tar');
  tar.c({ file: archive, cwd: root, sync: true, portable: true }, ['.']);
  return archive;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The CLI from source, through tsx: runCli's default entry (Node's arguments before the CLI's). */
export const SOURCE_CLI = ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts')];

/**
 * Runs `lxzone ARGS` the way a user does (through the CLI's entry), from
 * source, or through `entry` (Node's arguments before the CLI's: see
 * lifecycle-env.ts builtCli).
 */
export function runCli(args: string[], opts: { input?: string; timeoutMs?: number; onSpawn?: (pid: number) => void; entry?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.entry ?? SOURCE_CLI), ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(opts.input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    if (child.pid) opts.onSpawn?.(child.pid);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a zone could leave behind on the host. */
export interface HostSnapshot {
  /** lxzone-shim processes (keepers and zone inits) descended from this test process. */
  shims: number[];
  /** Mount points of the host's mount namespace (shared services like LXCFS left out). */
  mounts: string[];
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function descendsFromUs(pid: number): boolean {
  for (let p: number | undefined = pid, hops = 0; p && p > 1 && hops < 64; hops++) {
    if (p === process.pid) return true;
    p = parentOf(p);
  }
  return false;
}

// Only our own zones count: test files run in parallel workers, each with its own.
function shimPids(): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readlinkSync(`/proc/${e}/exe`).endsWith('/lxzone-shim') && descendsFromUs(Number(e))) out.push(Number(e));
    } catch {
      // gone, or a kernel thread
    }
  }
  return out;
}

// Temp directories this test process made (zone roots, images): a mount
// under one of them is ours to count, as everywhere else on the host.
const ownTempDirs = new Set<string>();
/** Registers a temp directory of this test file: mounts left under it count as leaks. */
export function ownTempDir(dir: string): string {
  ownTempDirs.add(dir.replace(/\/+$/, ''));
  return dir;
}

// Mounts other programs make meanwhile are not ours to count: the shared LXCFS
// started on demand, and anything inside a temp directory (/tmp/X/, /var/tmp/X/)
// this process did not make (test files and other checkouts run in parallel).
// A zone's mounts live in namespaces of their own; one that leaked would show
// at the places the shim builds from (/tmp itself, /newroot, /oldroot), under
// one of our own test roots, or anywhere else on the host.
const LXCFS = /^\/run\/lxzone\/lxcfs(\/|$)/;
const TEMP_DIR = /^(\/(?:var\/)?tmp\/[^/]+)\//;

function countsAsOurs(m: string): boolean {
  if (LXCFS.test(m)) return false;
  const t = TEMP_DIR.exec(m);
  return !t || ownTempDirs.has(t[1]!);
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(' ')[4]!.replace(/\\040/g, ' '))
    .filter(countsAsOurs)
    .sort();
}

export function hostSnapshot(): HostSnapshot {
  return { shims: shimPids(), mounts: mountPoints() };
}

/** Registers, for the calling test file, a snapshot before each test and the
 *  nothing-left-behind check after it (the usual pair of hooks). */
export function checkNothingLeftAroundEach(): void {
  let before: HostSnapshot;
  beforeEach(() => {
    before = hostSnapshot();
  });
  afterEach(async () => {
    await expectNothingLeft(before);
  });
}

/** Waits (briefly) until no shim process of ours beyond `before` remains and no host mount was added.
 *  (A mount that went away is another test's cleanup, never a zone's doing.) */
export async function expectNothingLeft(before: HostSnapshot): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = hostSnapshot();
    const extra = now.shims.filter((p) => !before.shims.includes(p));
    const added = now.mounts.filter((m) => !before.mounts.includes(m));
    if (extra.length === 0 && added.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(`zone left things behind: shim pids ${extra.join(',') || 'none'}, mounts added ${added.join(',') || 'none'}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
