// Real programs from the host's root, run by a shell script under
// fixtures/programs/ natively and in a zone; the script prints normalised
// output (no paths, pids or times) and the two outputs must be identical.
// Scripts work in $LXZONE_WORK (a scratch dir natively, /tmp/work in a zone).
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ProgramSpec } from './manifest.js';
import { PROGRAMS_DIR } from './paths.js';
import { runNativeRaw, runZoneRaw, type RawRun, type ZoneRunSettings } from './execute.js';

/** The shell the scripts run under: the host's /bin/sh, the same file natively and in a zone. */
export const SHELL = '/bin/sh';
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function findCommand(cmd: string): string | undefined {
  const candidates = cmd.includes('/') ? [cmd] : PATH.split(delimiter).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Why a program cannot run on this host, or undefined. */
export function missingRequirement(spec: ProgramSpec): string | undefined {
  const missing = spec.requires.filter((r) => !findCommand(r));
  return missing.length ? `not installed on this host: ${missing.join(', ')}` : undefined;
}

function env(): Record<string, string> {
  return { PATH, LANG: 'C', LC_ALL: 'C', TZ: 'UTC', HOME: '/nonexistent' };
}

export async function runProgramNative(spec: ProgramSpec, timeoutMs: number): Promise<RawRun> {
  return runNativeRaw([SHELL, join(PROGRAMS_DIR, spec.script)], env(), timeoutMs, 'LXZONE_WORK');
}

export async function runProgramZone(spec: ProgramSpec, timeoutMs: number, zone: ZoneRunSettings): Promise<RawRun> {
  return runZoneRaw([SHELL, '-c', `mkdir -p /tmp/work && exec ${SHELL} ${join(PROGRAMS_DIR, spec.script)}`],
    { ...env(), LXZONE_WORK: '/tmp/work' }, timeoutMs, zone);
}

/** Differences between a native and a zone run of a program (empty = identical). */
export function compareProgram(native: RawRun, zone: RawRun): string[] {
  const diffs: string[] = [];
  if (native.error) return [`native run: ${native.error}`];
  if (zone.error) return [`zone run: ${zone.error}`];
  if (native.timedOut) return ['native run: timed out'];
  // A program that fails natively (missing data, a broken script) proves nothing about the zone:
  // identical failures would "pass".
  if (native.signal || native.exitCode !== 0) {
    return [`native run did not succeed (${native.signal ? `killed by ${native.signal}` : `exit ${native.exitCode}`}${native.stderr ? `: ${native.stderr.trim().split('\n').slice(-2).join(' | ')}` : ''}); the zone run is not compared`];
  }
  if (zone.timedOut) return ['zone run: timed out'];
  const status = (r: RawRun) => (r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`);
  if (status(native) !== status(zone)) {
    diffs.push(`ended differently: native ${status(native)}, zone ${status(zone)}${zone.stderr ? ` (zone stderr: ${zone.stderr.trim().split('\n').slice(-3).join(' | ')})` : ''}`);
  }
  const a = native.stdout.split('\n');
  const b = zone.stdout.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length) && diffs.length < 8; i++) {
    if (a[i] !== b[i]) diffs.push(`stdout line ${i + 1}: native ${JSON.stringify(a[i] ?? '(none)')}, zone ${JSON.stringify(b[i] ?? '(none)')}`);
  }
  if (diffs.length && native.exitCode !== 0 && native.stderr) diffs.push(`native stderr: ${native.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return diffs;
}
