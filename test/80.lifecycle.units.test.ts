// The lifecycle's pure parts: restart decisions, restart delays, the log
// reader across rotations, and the daemon protocol's line reader.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LineReader, MAX_LINE_BYTES } from '../src/daemon/protocol.js';
import { LogRotator, readLogs } from '../src/zone/lifecycle/logs.js';
import { attachOptionsOf } from '../src/zone/lifecycle/plan.js';
import { decideRestart, RESTART_BURST, restartDelayMs } from '../src/zone/lifecycle/restart.js';
import { ZoneStore } from '../src/zone/state/store.js';

const base = mkdtempSync('/tmp/lxz80u-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('decideRestart', () => {
  const d = (policy: string, end: Parameters<typeof decideRestart>[1], haltedByUs = false, n = 0) =>
    decideRestart(policy, end, { haltedByUs, restartsInARow: n }).restart;
  it("follows docker's policies", () => {
    expect(d('no', { exitCode: 1 })).toBe(false);
    expect(d('always', { exitCode: 0 })).toBe(true);
    expect(d('unless-stopped', { exitCode: 0 })).toBe(true);
    expect(d('on-failure', { exitCode: 0 })).toBe(false);
    expect(d('on-failure', { exitCode: 2 })).toBe(true);
    expect(d('on-failure', { exitCode: 125, error: 'setup failed' })).toBe(true);
    expect(d('on-failure:3', { exitCode: 2 }, false, 2)).toBe(true);
    expect(d('on-failure:3', { exitCode: 2 }, false, 3)).toBe(false);
  });
  it('never restarts what was halted; reboot(2) decides for itself', () => {
    expect(d('always', { exitCode: 143 }, true)).toBe(false);
    expect(d('no', { exitCode: 0, reboot: 'restart' })).toBe(true);
    expect(d('always', { exitCode: 0, reboot: 'halt' })).toBe(false);
    expect(d('always', { exitCode: 0, reboot: 'restart' }, true)).toBe(false);
  });
  it('backs off from 100 ms to at most 30 s; a reboot(2) starting a series at once', () => {
    expect([0, 1, 2, 3].map((n) => restartDelayMs(n))).toEqual([100, 200, 400, 800]);
    expect(restartDelayMs(50)).toBe(30_000);
    expect([0, 1, 2, 3].map((n) => restartDelayMs(n, { reboot: true }))).toEqual([0, 100, 200, 400]);
  });
  it('stops every series after RESTART_BURST restarts, reboot(2) included', () => {
    const limited = (policy: string, end: Parameters<typeof decideRestart>[1]) => decideRestart(policy, end, { haltedByUs: false, restartsInARow: RESTART_BURST });
    expect(limited('always', { exitCode: 1 })).toMatchObject({ restart: false, limited: true });
    expect(limited('no', { exitCode: 0, reboot: 'restart' })).toMatchObject({ restart: false, limited: true });
    expect(limited('no', { exitCode: 1 })).toMatchObject({ restart: false });
    expect(limited('no', { exitCode: 1 }).limited).toBeUndefined();
    expect(d('always', { exitCode: 1 }, false, RESTART_BURST - 1)).toBe(true);
  });
});

describe('readLogs', () => {
  const store = new ZoneStore({ stateDir: join(base, 'state'), runtimeDir: join(base, 'run') });
  const dir = store.paths('z').logDir;
  const collect = () => {
    const out = { stdout: '', stderr: '' };
    return { out, sinks: { stdout: (b: Buffer) => (out.stdout += b), stderr: (b: Buffer) => (out.stderr += b) } };
  };

  it('prints the rotated copy then the file, stdout and stderr apart, and --tail', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stdout.log.1'), 'a\nb\n');
    writeFileSync(join(dir, 'stdout.log'), 'c\nd\n');
    writeFileSync(join(dir, 'stderr.log'), 'e\n');
    const all = collect();
    await readLogs(store, 'z', all.sinks);
    expect(all.out).toEqual({ stdout: 'a\nb\nc\nd\n', stderr: 'e\n' });
    const tail = collect();
    await readLogs(store, 'z', tail.sinks, { tail: 3 });
    expect(tail.out).toEqual({ stdout: 'b\nc\nd\n', stderr: 'e\n' });
  });

  it('follows across rotations in order, without repeats', async () => {
    rmSync(dir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'stdout.log');
    writeFileSync(file, '');
    writeFileSync(join(dir, 'stderr.log'), '');
    const rot = new LogRotator([file], 20, 1_000_000); // rotated by hand below
    let running = true;
    const { out, sinks } = collect();
    const reading = readLogs(store, 'z', sinks, { follow: true, running: () => running, pollMs: 10 });
    let n = 0;
    for (let round = 0; round < 30; round++) {
      appendFileSync(file, `${n++}\n${n++}\n`);
      if (round % 4 === 3) rot.check();
      if (round % 9 === 8) {
        rot.check();
        appendFileSync(file, `${n++}\n`);
        rot.check(); // two rotations between two polls
      }
      await new Promise((r) => setTimeout(r, round % 2 ? 25 : 1));
    }
    await new Promise((r) => setTimeout(r, 50));
    running = false;
    await reading;
    rot.stop();
    const seen = out.stdout.trim().split('\n').map(Number);
    expect(seen.every((v, i) => i === 0 || v > seen[i - 1]!)).toBe(true);
    expect(seen.at(-1)).toBe(n - 1);
  });
});

describe('LineReader', () => {
  it('splits lines across chunks and refuses an endless one', () => {
    const lines: string[] = [];
    const r = new LineReader((l) => lines.push(l));
    r.push('{"a":');
    r.push('1}\n\n{"b":2}\n{"c"');
    expect(lines).toEqual(['{"a":1}', '{"b":2}']);
    expect(() => r.push('x'.repeat(MAX_LINE_BYTES + 1))).toThrow(/longer than/);
  });
});

describe('attachOptionsOf (re-attach)', () => {
  it('serves a zone as its boot did: per-process kernel releases only when the zone asked', () => {
    const rec = { hostname: 'web', profile: 'default', extraRules: [], idBase: 0, kernelVersion: '5.15.0' };
    const o = attachOptionsOf(rec);
    expect(o).toMatchObject({ hostname: 'web', kernelVersion: '5.15.0', kernelVersionEnv: false });
    expect(attachOptionsOf({ ...rec, kernelVersionEnv: true }).kernelVersionEnv).toBe(true);
    expect(o).not.toHaveProperty('kernelBuild');
  });
});
