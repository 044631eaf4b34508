// Running the measured programs: natively (spawnSync from this process) and
// in a zone (runZone, in this process, so the supervisor is the one the
// TypeScript API uses). Programs report "ns_per_call <float>" lines
// (fixtures/bench/bench.h); a run that fails throws with its output.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { native } from '../../src/native.js';
import { runZone, type RunOptions } from '../../src/zone/run.js';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchBin = join(repoRoot, 'fixtures', 'bin', 'bench');

/**
 * The bench programs as a zone sees them: bound read-only into the zone's own
 * /run (the checkout may live under the host's /tmp, which every zone
 * replaces with its own).
 */
export const zoneBenchBin = '/run/lxzone-bench';

/** Options that let a zone run the bench programs named in `argv` (host paths). */
export function inZone(argv: string[], opts: Partial<RunOptions> = {}): RunOptions {
  return {
    ...opts,
    argv: argv.map((a) => (a.startsWith(`${benchBin}/`) ? zoneBenchBin + a.slice(benchBin.length) : a)),
    binds: [...(opts.binds ?? []), { host: benchBin, zone: zoneBenchBin, readOnly: true }],
  };
}

export function progress(msg: string): void {
  process.stderr.write(`bench: ${msg}\n`);
}

export function fixture(name: string): string {
  return join(benchBin, name);
}

/** Builds fixtures/bin/bench (make is a no-op when they are current). */
export function buildFixtures(): void {
  // A machine without a toolchain (the Debian 12 guest of `npm run test:vm`) runs the static fixtures
  // its host built and copied in.
  if (which('make') === undefined && existsSync(benchBin)) {
    progress(`make not found: using the fixtures already built in ${benchBin}`);
    return;
  }
  const r = spawnSync('make', ['-s', '-C', join(repoRoot, 'fixtures'), 'bench'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make -C fixtures bench failed:\n${r.stderr ?? ''}${r.error?.message ?? ''}`);
}

/** The first of `candidates` that exists as an executable on PATH or as a path. */
export function which(cmd: string): string | undefined {
  if (cmd.includes('/')) return existsSync(cmd) ? cmd : undefined;
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p.startsWith('/') ? p : undefined;
}

export function parseNs(stdout: string): number[] {
  const out: number[] = [];
  for (const m of stdout.matchAll(/^ns_per_call (\d+(?:\.\d+)?)$/gm)) out.push(Number(m[1]));
  return out;
}

function describe(argv: string[], status: number | null, stdout: string, stderr: string): Error {
  return new Error(`${argv.join(' ')} exited ${status}: ${(stderr || stdout).trim().slice(0, 500)}`);
}

/** Runs a bench program natively; returns its per-batch ns. */
export function nativeLoop(argv: string[], opts: SpawnSyncOptions = {}): number[] {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const stdout = String(r.stdout ?? '');
  if (r.status !== 0) throw describe(argv, r.status, stdout, String(r.stderr ?? r.error?.message ?? ''));
  const ns = parseNs(stdout);
  if (!ns.length) throw describe(argv, r.status, stdout, 'no ns_per_call lines');
  return ns;
}

/** Runs a bench program in a fresh zone (host root unless opts.rootfs); returns its per-batch ns. */
export async function zoneLoop(argv: string[], opts: Partial<RunOptions> = {}): Promise<{ ns: number[]; stdout: string }> {
  const r = await runZone(inZone(argv, { stdio: 'pipe', ...opts }));
  const stdout = r.stdout?.toString() ?? '';
  if (r.exitCode !== 0) throw describe(['zone:', ...argv], r.exitCode, stdout, r.stderr?.toString() ?? '');
  const ns = parseNs(stdout);
  if (!ns.length) throw describe(['zone:', ...argv], r.exitCode, stdout, 'no ns_per_call lines');
  return { ns, stdout };
}

/** Wall time of one synchronous spawn to exit, in ms; throws when it fails. */
export function timeSpawn(argv: string[], opts: SpawnSyncOptions = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw describe(argv, r.status, '', String(r.stderr ?? r.error?.message ?? ''));
  return ms;
}

/**
 * The same as timeSpawn, but started as startZone() starts its shim:
 * posix_spawn from the addon (no fork of this process), stdio /dev/null,
 * its end seen through a pidfd. For peers compared with the API start.
 */
export async function timePosixSpawn(argv: string[]): Promise<number> {
  const t0 = process.hrtime.bigint();
  const code = await new Promise<number | null>((resolve) => native().spawnProcess(argv[0]!, argv, [-1, -1, -1], false, (c) => resolve(c)));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw describe(argv, code, '', '');
  return ms;
}

export async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
