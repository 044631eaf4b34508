// `lxzone run` as the installed bin runs it (bin/lxzone: the native front end,
// lxzone-front, for a plain run; docs/parts/fast-run.md) and as Node runs it,
// for the tests of the front end and its launch descriptions. Every call uses
// the runtime directory its test file gives (so the descriptions are the
// file's own) and an installation: this checkout, or a copy a test made.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { canonicalLaunchFlags, fnv1a64, type PlainRunFlags } from '../../src/cli/launch-description.js';
import { expectNoLeaks, leakSnapshot, type LeakSnapshot } from './leaks.js';
import { expectNothingLeft, hostSnapshot, repoRoot, type CliResult, type HostSnapshot } from './zones.js';

// What LXZONE_DEBUG adds: the front end's choice, and Node's word on the description it writes.
const DEBUG_LINE = /^lxzone: (front: |launch description ).*\n/gm;

export interface FrontCall {
  env?: NodeJS.ProcessEnv;
  /** Called with the child's pid once its stdout has said `ready`. */
  onReady?: (pid: number) => void;
}

/** What the front end said it did (its LXZONE_DEBUG line). */
export function said(r: CliResult): string {
  return (r.stderr.match(/^lxzone: front: .*\n/gm) ?? []).join('');
}

/** stderr less the front end's own line: what a user sees either way. */
export const userStderr = (r: CliResult): string => r.stderr.replace(DEBUG_LINE, '');

/** The records of a launch description (or a shim config): key=value, NUL-terminated. */
export function descriptionRecords(bytes: Buffer): string[] {
  return bytes.toString('latin1').split('\0').filter((r) => r !== '');
}

/** The paths a description at `path` lists as input files. */
export function inputFilesOf(path: string): string[] {
  return descriptionRecords(readFileSync(path))
    .filter((r) => r.startsWith('input-file='))
    .map((r) => r.slice('input-file='.length).split('\x1f')[0]!);
}

/**
 * The calls of a test file whose runtime directory is `runtime()` (read at each call), against the
 * installation at `root` (bin/lxzone, bin/lxzone.js, build/Release/lxzone-front under it).
 */
export function frontCli(runtime: () => string, root = repoRoot) {
  function spawnCli(argv: string[], call: FrontCall = {}): Promise<CliResult> {
    return new Promise((resolve, reject) => {
      const env: NodeJS.ProcessEnv = { ...process.env, LXZONE_RUNTIME_DIR: runtime(), ...call.env };
      delete env.LXZONE_LAUNCH_FLAGS;
      for (const [k, v] of Object.entries(call.env ?? {})) if (v === undefined) delete env[k];
      // cwd /: the zone's own /tmp hides a checkout under the host's /tmp.
      const child = spawn(argv[0]!, argv.slice(1), { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
        if (call.onReady && stdout.includes('ready')) {
          call.onReady(child.pid!);
          call.onReady = undefined;
        }
      });
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
      child.on('error', reject);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr });
      });
    });
  }

  /** `lxzone ARGS` as the installed bin runs it, saying (LXZONE_DEBUG) how. */
  const lxzone = (args: string[], call: FrontCall = {}): Promise<CliResult> =>
    spawnCli([join(root, 'bin', 'lxzone'), ...args], { ...call, env: { LXZONE_DEBUG: '1', ...call.env } });

  /** The Node path for the same command line. */
  const viaNode = (args: string[], call: FrontCall = {}): Promise<CliResult> =>
    spawnCli([process.execPath, join(root, 'bin', 'lxzone.js'), ...args], { ...call, env: { LXZONE_DEBUG: undefined, ...call.env } });

  /** Where the description of a plain run with these flags lives. */
  const descriptionOf = (flags: PlainRunFlags): string => join(runtime(), 'launch', `run-${fnv1a64(canonicalLaunchFlags(flags))}`);

  /** Runs `args` until the front end uses the description at `path` (a first run through Node writes it). */
  async function withDescription(args: string[], path: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const r = await lxzone(args, { env });
    if (said(r) === `lxzone: front: using ${path}\n`) return;
    expect(said(r)).toMatch(/node runs it/);
    expect(existsSync(path), `${path} written by the Node run`).toBe(true);
  }

  return { spawnCli, lxzone, viaNode, descriptionOf, withDescription };
}

/** Host id ranges claimed and not given back: claim files (and temp files) in the runtime's ids/. */
export function idClaims(runtime: string): string[] {
  try {
    return readdirSync(join(runtime, 'ids'));
  } catch {
    return [];
  }
}

/** Around each test of the calling describe: no process, mount or id claim of a plain run left behind. */
export function checkFrontRunsLeaveNothing(runtime: () => string): void {
  let before: HostSnapshot;
  let leaks: LeakSnapshot;
  beforeEach(() => {
    before = hostSnapshot();
    leaks = leakSnapshot();
  });
  afterEach(async () => {
    await expectNothingLeft(before);
    // A plain run makes no cgroup, link or netns; those kinds (and the host's mount
    // table, which expectNothingLeft scopes) are shared with concurrent test files.
    await expectNoLeaks(leaks, { skip: ['cgroups', 'links', 'netns', 'mounts'] });
    expect(idClaims(runtime()), 'id claims left in <runtime>/ids').toEqual([]);
  });
}
