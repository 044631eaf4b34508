// The seccomp filters of lxzone's own helper processes (lxzone-utsfs, the FUSE
// drivers) as the kernel holds and applies them, for the tests that prove
// them: a live process's filter read back (fixtures/blockdev/seccomp_dump),
// and a filter's bytes loaded into the kernel and tried call by call
// (fixtures/probes/seccomp_load), every answer checked against the one the
// BPF interpreter gives for the same bytes.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { decodeProgram, describeAction, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } from '../../src/policy/bpf.js';
import { runFilter } from '../../src/policy/interpret.js';
import { loadTable } from '../../src/tables/index.js';
import { repoRoot } from './zones.js';

const fixtures = join(repoRoot, 'fixtures');
const SECCOMP_DUMP = join(fixtures, 'bin', 'blockdev', 'seccomp_dump');
const SECCOMP_LOAD = join(fixtures, 'bin', 'probes', 'seccomp_load');

/** Builds the two fixture programs (and any `more` targets of fixtures/Makefile): call in beforeAll. */
export function buildSeccompFixtures(more: string[] = []): void {
  execFileSync('make', ['-s', '-C', fixtures, ...more, 'bin/blockdev/seccomp_dump', 'bin/probes/seccomp_load'], { stdio: 'pipe' });
}

/** Why the kernel checks cannot run here, or undefined: their calls are x86-64 numbers. */
export const x86OnlyReason = (what: string): string | undefined =>
  process.arch !== 'x64' ? `${what} uses x86-64 numbers (this is ${process.arch})` : undefined;

/** Polls `f` every 100 ms until it gives a value; fails naming `what` after `ms`. */
export async function waitFor<T>(what: string, f: () => T | undefined, ms = 60_000): Promise<T> {
  for (const deadline = Date.now() + ms; ;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One field of /proc/PID/status (its value after the colon), or undefined. */
export const statusField = (pid: number, key: string): string | undefined =>
  /^(\S+):\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${key}:`)) ?? '')?.[2];

export interface SeccompState {
  /** NoNewPrivs, Seccomp and Seccomp_filters from /proc/PID/status. */
  status: Record<string, string | undefined>;
  /** Each filter the process is under, as the kernel holds it (hex of its sock_filter program). */
  filters: string[];
}

/** A live process's seccomp state, read back from the kernel (the read stops the process for a moment). */
export function readSeccompState(pid: number): SeccompState {
  const status: Record<string, string | undefined> = {};
  for (const key of ['NoNewPrivs', 'Seccomp', 'Seccomp_filters']) status[key] = statusField(pid, key);
  const dump = spawnSync(SECCOMP_DUMP, [String(pid)], { encoding: 'utf8', timeout: 20_000 });
  expect(dump.status, dump.stderr).toBe(0);
  return { status, filters: dump.stdout.trim().split('\n').filter((l) => l) };
}

/** A call to try under a filter: by name (x86-64) or number, with its arguments. */
export interface TriedCall { name: string; args?: bigint[]; nr?: number }
/** What the kernel must answer: an errno (ret -1), or 'ok' (ret >= 0). */
export type KernelAnswer = number | 'ok';

/**
 * Loads `filter` into the kernel (a seccomp_load child, with a helper thread holding a listener) and makes
 * each call under it: each must get its expected answer, none may be notified (nobody serves a helper's
 * notifications), and the interpreter must decide the same for the same bytes. `scratch`: a directory for
 * the filter's file.
 */
export function expectKernelAnswers(filter: Buffer, expected: [TriedCall, KernelAnswer][], scratch: string): void {
  const table = loadTable('x86_64');
  const nrOf = (c: TriedCall): number => c.nr ?? table.syscalls.find((s) => s.name === c.name)!.nr;
  const file = join(scratch, 'filter.bpf');
  writeFileSync(file, filter);
  const calls = expected.map(([c]) => c);
  const argv = calls.map((c) => [nrOf(c), ...(c.args ?? []).map((a) => `0x${a.toString(16)}`)].join(':'));
  const r = spawnSync(SECCOMP_LOAD, ['--listen', file, ...argv], { encoding: 'utf8', timeout: 30_000 });
  expect({ status: r.status, signal: r.signal }, r.stderr).toEqual({ status: 0, signal: null });
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ret: number; errno: number; notified: boolean });
  expect(lines.length).toBe(calls.length);
  const prog = decodeProgram(filter);
  lines.forEach((got, i) => {
    const [c, want] = expected[i]!;
    const what = `${c.name}(${(c.args ?? []).map((a) => `0x${a.toString(16)}`).join(', ')})`;
    expect({ what, notified: got.notified }).toEqual({ what, notified: false });
    if (want === 'ok') expect(got.ret, what).toBeGreaterThanOrEqual(0);
    else expect({ what, ret: got.ret, errno: got.errno }).toEqual({ what, ret: -1, errno: want });
    const action = runFilter(prog, { nr: nrOf(c), arch: table.auditArch, args: c.args }).ret;
    const a = (action & SECCOMP_RET_ACTION_FULL) >>> 0;
    if (a === SECCOMP_RET_ERRNO) expect({ what, errno: action & 0xffff }).toEqual({ what, errno: got.errno });
    else expect({ what, action: describeAction(action) }).toEqual({ what, action: describeAction(SECCOMP_RET_ALLOW) });
  });
}
