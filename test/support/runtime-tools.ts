// The OCI runtime-tools validation suite (github.com/opencontainers/runtime-tools)
// against lxzone-runc. Its source, with vendored dependencies, is not in this
// repository: it is found (LXZONE_OCI_RUNTIME_TOOLS, ../shared/oci-runtime-tools
// beside the checkout, /work/shared/oci-runtime-tools), copied into a cache
// directory outside the repository and built there once per source content
// with Debian's golang-go, offline (vendored modules). Each validation/*/*.t
// runs with RUNTIME=<a wrapper around lxzone-runc> from that directory (it
// needs runtimetest and the rootfs tarball beside it) and prints TAP.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { repoRoot } from './zones.js';

export function toolsSource(): { dir?: string; looked: string[] } {
  const looked = [
    process.env.LXZONE_OCI_RUNTIME_TOOLS,
    resolve(repoRoot, '..', 'shared', 'oci-runtime-tools'),
    '/work/shared/oci-runtime-tools',
  ].filter((d): d is string => Boolean(d));
  const dir = looked.find((d) => existsSync(join(d, 'validation')) && existsSync(join(d, 'vendor')));
  return { dir, looked };
}

export function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A key for the source's content: names, sizes and modification times of every file. */
function sourceKey(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (!name.endsWith('.t') && name !== 'runtimetest') h.update(`${relative(dir, p)}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 16);
}

export function cacheRoot(): string {
  return process.env.LXZONE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lxzone');
}

/**
 * The built suite: a directory holding runtimetest, rootfs-<arch>.tar.gz and
 * validation/NAME/NAME.t. Built into a temporary directory and renamed into
 * place, so an interrupted build is never taken for a finished one.
 */
export function buildTools(src: string, log: (line: string) => void): string {
  const dir = join(cacheRoot(), `oci-runtime-tools-${sourceKey(src)}`);
  if (existsSync(join(dir, 'BUILT'))) return dir;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(src, tmp, { recursive: true });
  log(`building the runtime-tools validation suite in ${dir} (go, offline, vendored modules)`);
  const env = { ...process.env, GOFLAGS: '-mod=vendor', GOPROXY: 'off', GOCACHE: join(cacheRoot(), 'go-build'), GOPATH: join(cacheRoot(), 'go') };
  execFileSync('make', ['runtimetest', 'validation-executables'], { cwd: tmp, env, stdio: ['ignore', 'ignore', 'pipe'] });
  writeFileSync(join(tmp, 'BUILT'), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return dir;
}

/** The validation programs, by name (validation/NAME/NAME.t). */
export function validations(dir: string): string[] {
  return readdirSync(join(dir, 'validation'))
    .filter((n) => existsSync(join(dir, 'validation', n, `${n}.t`)))
    .sort();
}

/**
 * An executable the suite calls as its runtime: this checkout's built
 * lxzone-runc (bin/lxzone-runc.js → dist/; what containerd would call, and
 * several times quicker to start than from source, which matters for the
 * hundreds of calls the suite makes), with a --root of its own so
 * containers a failed case leaves behind are found and removed by the test.
 */
export function runtimeWrapper(dir: string, stateRoot: string): string {
  const file = join(dir, 'lxzone-runc');
  writeFileSync(file, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'bin', 'lxzone-runc.js'))} --root ${JSON.stringify(stateRoot)} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * Why the built runtime (or, with `entry` 'lxzone', the built CLI) cannot
 * be tested as this checkout's source: not built, or older than a source file.
 */
export function staleBuild(entry: 'lxzone-runc' | 'lxzone' = 'lxzone-runc'): string | undefined {
  // bin/lxzone-runc.js (bin/lxzone.js) runs the bundle when there is one, else dist/oci/ (dist/cli/).
  const bundle = join(repoRoot, 'dist', 'cli-bundle', entry === 'lxzone' ? 'all.cjs' : 'lxzone-runc.cjs');
  const built = existsSync(bundle) ? bundle : join(repoRoot, 'dist', entry === 'lxzone' ? 'cli/main.js' : 'oci/cli.js');
  if (!existsSync(built)) return `${built} is missing: npm run build`;
  const at = statSync(built).mtimeMs;
  const newer: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.ts') && st.mtimeMs > at) newer.push(relative(repoRoot, p));
    }
  };
  walk(join(repoRoot, 'src'));
  return newer.length ? `dist/ is older than ${newer.slice(0, 3).join(', ')}${newer.length > 3 ? ', …' : ''}: npm run build` : undefined;
}

export interface TapCase {
  /** "NAME: description" (with " (#k)" for the k-th case of the same description): stable across runs. */
  id: string;
  ok: boolean;
  skip: boolean;
  /** For a failure: the first line of the case's error (and stderr), or why the program gave no result. */
  reason?: string;
}

/** The `not ok` lines of runtimetest's own TAP, which a program embeds as its diagnostic's stdout. */
function innerFailures(stdout: string | undefined): string | undefined {
  const failed = (stdout ?? '').split('\n').map((l) => /^not ok \d+ - (.*)$/.exec(l)?.[1]).filter((d): d is string => d !== undefined);
  return failed.length ? `runtimetest in the container: not ok ${failed.join('; ')}` : undefined;
}

function diagReason(lines: string[]): string | undefined {
  const text = lines.join('\n');
  try {
    const j = JSON.parse(text) as { error?: string; stderr?: string; stdout?: string; actual?: unknown; expected?: unknown };
    const parts = [j.error?.split('\n')[0], j.stderr?.trim().split('\n')[0], innerFailures(j.stdout)].filter(Boolean);
    if (parts.length) return parts.join(' — ');
    if ('actual' in j || 'expected' in j) return `expected ${JSON.stringify(j.expected)}, got ${JSON.stringify(j.actual)}`;
    return undefined;
  } catch {
    return lines.find((l) => l.trim())?.trim();
  }
}

/**
 * TAP of one program → its cases. A program that ends without a plan, or
 * with `1..0` after an error, counts as one failed case named after it.
 */
export function parseTap(name: string, output: string, exit: string): TapCase[] {
  const cases: TapCase[] = [];
  const lines = output.split('\n');
  let planned: number | undefined;
  let diag: string[] | undefined;
  let pendingDiag: string[] = [];
  const counts = new Map<string, number>();
  for (const line of lines) {
    if (diag) {
      if (/^\s+\.\.\.$/.test(line)) {
        const last = cases[cases.length - 1];
        if (last && !last.ok && !last.reason) last.reason = diagReason(diag);
        else pendingDiag = diag;
        diag = undefined;
      } else diag.push(line);
      continue;
    }
    if (/^\s+---$/.test(line)) { diag = []; continue; }
    const m = /^(not ok|ok) (\d+)(?: - )?(.*)$/.exec(line);
    if (m) {
      const skip = /#\s*SKIP/i.test(m[3]!);
      // Not the case number: runtimetest walks Go maps, so the order (and the numbers) change between runs.
      const desc = m[3]!.replace(/\s*#\s*SKIP\s*/i, skip ? 'SKIP ' : '').trim() || `case ${m[2]}`;
      const seen = (counts.get(desc) ?? 0) + 1;
      counts.set(desc, seen);
      cases.push({ id: `${name}: ${desc}${seen > 1 ? ` (#${seen})` : ''}`, ok: m[1] === 'ok', skip });
      continue;
    }
    // A TAP comment right after a failed case is its reason (`# cgroup subsystem pids is not mounted as expected`).
    const comment = /^# (.+)$/.exec(line);
    const last = cases[cases.length - 1];
    if (comment && last && !last.ok && !last.reason) last.reason = comment[1];
    const p = /^1\.\.(\d+)/.exec(line);
    if (p) planned = Number(p[1]);
  }
  // Lifecycle programs (poststart, poststop, ...) print only a diagnostic when they fail, and the
  // *_fail programs nothing at all (they exit 1 through util.Fatal): no case, no diagnostic and
  // exit 0 is the program's pass (the runtime's own error, passed through, is not a diagnostic).
  if ((planned === 0 || planned === undefined) && cases.length === 0 && !pendingDiag.length && exit === 'exit 0') {
    cases.push({ id: `${name}: (program)`, ok: true, skip: false });
  } else if (planned === undefined || planned === 0 || cases.length < planned) {
    const why = diagReason(pendingDiag) ?? lines.filter((l) => l.trim() && !/^TAP version|^1\.\./.test(l)).slice(-3).join(' | ');
    cases.push({ id: `${name}: (program)`, ok: false, skip: false, reason: `${why || '(no output)'} [${exit}]` });
  }
  return cases;
}

/** Runs one program with a time limit; the whole process group is killed when it runs out. */
export function runValidation(dir: string, name: string, runtime: string, limitMs: number, env: Record<string, string> = {}): Promise<{ output: string; exit: string }> {
  return new Promise((done) => {
    const child = spawn(join(dir, 'validation', name, `${name}.t`), [], {
      cwd: dir,
      env: { ...process.env, ...env, RUNTIME: runtime },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, limitMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ output, exit: timedOut ? `timed out after ${limitMs / 1000} s` : signal ? `killed by ${signal}` : `exit ${code}` });
    });
  });
}
