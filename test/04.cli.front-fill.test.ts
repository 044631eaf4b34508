// The native front end fills a launch description's slots (argv, TERM, the
// terminal, a claimed id base) into the shim config: the result must be byte
// for byte what planZone encodes for the same run (docs/parts/fast-run.md).
// lxzone-launch-fill runs the front end's own reader and filler
// (native/front/) on a description written by describeLaunch.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalLaunchFlags, describeLaunch, type PlainRunFlags } from '../src/cli/launch-description.js';
import { parseResourceFlags, requestedResources } from '../src/cli/resource-options.js';
import { projectRoot } from '../src/native.js';
import { zoneSpecFromFlags, type ZoneFlagValues } from '../src/zone/config/zone-flags.js';
import { idBaseOfSlot, slotLayout } from '../src/zone/ids.js';
import { planZone } from '../src/zone/shim-plan.js';
import type { RunOptions } from '../src/zone/spec.js';

const fillTool = join(projectRoot, 'build', 'Release', 'lxzone-launch-fill');
// The module that plans a run (its import graph is the description's planning code, run from source here).
const PLANNER = new URL('../src/cli/run.ts', import.meta.url).href;
let scratch: string;
const savedEnv = { runtime: process.env.LXZONE_RUNTIME_DIR, term: process.env.TERM };

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'lxz-front-fill-'));
  // The description names the claim directory under the runtime directory: a private one.
  process.env.LXZONE_RUNTIME_DIR = join(scratch, 'runtime');
});
afterAll(() => {
  for (const [k, v] of [['LXZONE_RUNTIME_DIR', savedEnv.runtime], ['TERM', savedEnv.term]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(scratch, { recursive: true, force: true });
});

function setTerm(term: string | undefined): void {
  if (term === undefined) delete process.env.TERM;
  else process.env.TERM = term;
}

/** The options `lxzone run` builds for the plain form with these flags (and commander's defaults of the others). */
function runOptions(flags: PlainRunFlags, argv: string[], tty: boolean): RunOptions {
  const parsed = { env: [], volume: [], publish: [], init: true, ...flags } as ZoneFlagValues;
  return { ...zoneSpecFromFlags(parsed, argv, requestedResources(parseResourceFlags({}))), tty };
}

function fill(description: Buffer, idBase: number, tty: boolean, argv: string[], term: string | undefined): { code: number | null; stdout: Buffer; stderr: string } {
  const file = join(scratch, `description-${Math.random().toString(16).slice(2)}`);
  writeFileSync(file, description, { mode: 0o600 });
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (term === undefined) delete env.TERM;
  else env.TERM = term;
  const r = spawnSync(fillTool, [file, String(idBase), tty ? '1' : '0', '--', ...argv], { env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/**
 * The argv of the run that writes a description: the description holds none
 * of it (argv is a slot), so any command serves; the filled config gets each
 * case's own argv.
 */
const WRITERS_ARGV = ['/bin/true'];

interface Case {
  name: string;
  flags: PlainRunFlags;
  argv: string[];
  term: string | undefined;
  tty: boolean;
}

describe('lxzone-front fills a launch description as planZone encodes the run', () => {
  const rootfs = (): string => {
    const dir = join(scratch, 'root');
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const cases: Case[] = [
    { name: "the host's root, TERM set, no terminal, awkward arguments", flags: {}, argv: ['/bin/echo', 'a b', '', 'ünïcode', '--x=y', '=', '\x1f'], term: 'xterm-256color', tty: false },
    { name: 'TERM unset, a terminal', flags: {}, argv: ['/bin/true'], term: undefined, tty: true },
    { name: '--network none', flags: { network: 'none' }, argv: ['/bin/sh', '-c', 'exit 3'], term: 'dumb', tty: false },
    { name: '--network loopback --rootfs DIR', flags: { network: 'loopback', rootfs: '' }, argv: ['/x'], term: 'vt100', tty: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const flags = c.flags.rootfs === '' ? { ...c.flags, rootfs: rootfs() } : c.flags;
      // A slot a run may claim: its base is what planZone encodes when given it.
      const idBase = idBaseOfSlot(slotLayout().transient.first + 7);
      const description = describeLaunch(canonicalLaunchFlags(flags), runOptions(flags, WRITERS_ARGV, false), PLANNER);
      setTerm(c.term);
      const expected = planZone({ ...runOptions(flags, c.argv, c.tty), idBase }).config;
      const got = fill(description, idBase, c.tty, c.argv, c.term);
      expect(got.stderr).toBe('');
      expect(got.code).toBe(0);
      expect(got.stdout.toString('latin1')).toBe(expected.toString('latin1'));
      expect(Buffer.compare(got.stdout, expected)).toBe(0);
    });
  }

  it('a different run is a different config (the comparison can fail)', () => {
    const idBase = idBaseOfSlot(slotLayout().transient.first);
    const description = describeLaunch(canonicalLaunchFlags({}), runOptions({}, WRITERS_ARGV, false), PLANNER);
    setTerm('xterm');
    const expected = planZone({ ...runOptions({}, ['/bin/true'], false), idBase }).config;
    expect(Buffer.compare(fill(description, idBase, false, ['/bin/false'], 'xterm').stdout, expected)).not.toBe(0);
    expect(Buffer.compare(fill(description, idBase + 65536, false, ['/bin/true'], 'xterm').stdout, expected)).not.toBe(0);
    expect(Buffer.compare(fill(description, idBase, true, ['/bin/true'], 'xterm').stdout, expected)).not.toBe(0);
  });

  it('a description with a record it does not know is refused', () => {
    const description = describeLaunch(canonicalLaunchFlags({}), runOptions({}, WRITERS_ARGV, false), PLANNER);
    const r = fill(Buffer.concat([description, Buffer.from('bogus=1\0')]), 0, false, ['/bin/true'], undefined);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bogus/);
  });

  it('the description holds no argv, TERM or terminal of the run that wrote it', () => {
    setTerm('secret-term');
    const text = describeLaunch(canonicalLaunchFlags({}), runOptions({}, ['/bin/echo', 'written-by-this-run'], true), PLANNER).toString('latin1');
    for (const s of ['written-by-this-run', 'secret-term']) {
      expect(text).not.toContain(s);
      expect(text).not.toContain(Buffer.from(s).toString('hex'));
    }
  });
});
