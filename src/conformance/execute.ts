// Running one probe case (or program script): natively, as a child of this
// process in a fresh scratch directory, and in a fresh zone (runZone's
// startZone, so a hung case can be killed). Both get the same argv; only the
// scratch base differs (the zone's /tmp is its own tmpfs).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startZone, type RunOptions } from '../zone/run.js';
import { FIXTURES_DIR } from './paths.js';
import type { CaseRun, ProbeLine } from './types.js';

const TMPFS_MAGIC = 0x01021994;

/**
 * Where native runs make their scratch directories: a tmpfs when the host
 * has one at /dev/shm (the zone's /tmp is a tmpfs, and fallocate holes,
 * xattrs and statfs should see the same filesystem type), else the temp dir.
 */
export function nativeScratchBase(): string {
  try {
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) return '/dev/shm';
  } catch {
    // no /dev/shm: fall through
  }
  return tmpdir();
}

function isProbeLine(v: unknown): v is ProbeLine {
  if (!v || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return typeof o.case === 'string' && typeof o.syscall === 'string' && typeof o.ret === 'number'
    && (o.errno === null || typeof o.errno === 'string') && !!o.data && typeof o.data === 'object' && !Array.isArray(o.data);
}

/** Splits a probe's stdout into result lines and anything else. */
export function parseProbeOutput(stdout: string): { lines: ProbeLine[]; invalid: string[] } {
  const lines: ProbeLine[] = [];
  const invalid: string[] = [];
  for (const raw of stdout.split('\n')) {
    if (raw.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      invalid.push(raw);
      continue;
    }
    if (isProbeLine(v)) lines.push(v);
    else invalid.push(raw);
  }
  return { lines, invalid };
}

export interface RawRun {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal?: string;
  timedOut: boolean;
  error?: string;
}

/** Runs argv natively with a timeout; the scratch dir is made and removed here. */
export async function runNativeRaw(argv: string[], env: Record<string, string>, timeoutMs: number,
  scratchEnv: string): Promise<RawRun> {
  const scratch = mkdtempSync(join(nativeScratchBase(), 'lxzone-conf-'));
  try {
    return await new Promise<RawRun>((resolve) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd: scratch,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, [scratchEnv]: scratch },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ stdout: '', stderr: '', exitCode: null, timedOut: false, error: `cannot run ${argv[0]}: ${e.message}` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          exitCode: code,
          signal: signal ?? undefined,
          timedOut,
        });
      });
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface ZoneRunSettings {
  profile: string;
  hostname: string;
  kernelVersion: string;
  network?: RunOptions['network'];
}

// The fixtures as a zone sees them: bound read-only into the zone's own /run.
// The checkout may live where zones cannot see it (under the host's /tmp,
// which every zone replaces with its own), and /tmp is the probes' scratch.
const ZONE_FIXTURES_DIR = '/run/lxzone-fixtures';

/** Runs argv in a fresh zone (host root, read-only) with a timeout; paths under fixtures/ are translated. */
export async function runZoneRaw(argv: string[], env: Record<string, string>, timeoutMs: number,
  zone: ZoneRunSettings): Promise<RawRun> {
  let running;
  try {
    running = startZone({
      argv: argv.map((a) => a.split(FIXTURES_DIR).join(ZONE_FIXTURES_DIR)),
      binds: [{ host: FIXTURES_DIR, zone: ZONE_FIXTURES_DIR, readOnly: true }],
      stdio: 'pipe',
      env,
      cwd: '/tmp',
      profile: zone.profile,
      hostname: zone.hostname,
      kernelVersion: zone.kernelVersion,
      network: zone.network ?? 'loopback',
    });
  } catch (err) {
    return { stdout: '', stderr: '', exitCode: null, timedOut: false, error: `cannot start the zone: ${(err as Error).message}` };
  }
  let timedOut = false;
  let hardTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    running.kill('SIGKILL');
    // A zone that does not end when its init is killed: kill its keeper
    // (the zone dies with it), so one stuck case cannot stall the suite.
    hardTimer = setTimeout(() => {
      try {
        process.kill(running.keeperPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 5000);
  }, timeoutMs);
  try {
    const r = await running.wait();
    return {
      stdout: r.stdout?.toString('utf8') ?? '',
      stderr: r.stderr?.toString('utf8') ?? '',
      exitCode: r.signal ? null : r.exitCode,
      signal: r.signal,
      timedOut,
    };
  } catch (err) {
    return { stdout: '', stderr: '', exitCode: null, timedOut, error: `the zone failed: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
    if (hardTimer) clearTimeout(hardTimer);
  }
}

export function toCaseRun(raw: RawRun): CaseRun {
  const { lines, invalid } = parseProbeOutput(raw.stdout);
  return {
    lines, invalid, exitCode: raw.exitCode, signal: raw.signal, stderr: raw.stderr,
    timedOut: raw.timedOut, error: raw.error,
  };
}

/** One probe case natively. */
export async function runProbeNative(bin: string, caseName: string, timeoutMs: number): Promise<CaseRun> {
  return toCaseRun(await runNativeRaw([bin, caseName], {}, timeoutMs, 'LXZONE_PROBE_TMP'));
}

/** One probe case in a zone; LXZONE_PROBE_ZONE=1 lets zone-only cases act. */
export async function runProbeZone(bin: string, caseName: string, timeoutMs: number, zone: ZoneRunSettings): Promise<CaseRun> {
  return toCaseRun(await runZoneRaw([bin, caseName], { LXZONE_PROBE_TMP: '/tmp', LXZONE_PROBE_ZONE: '1' }, timeoutMs, zone));
}
