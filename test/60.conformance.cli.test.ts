// `lxzone conformance` through the real command line parser: report on
// stdout, progress on stderr, --json, the result file, exit status 1 on an
// unexpected failure and 0 when the failure is a known one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lxzoneInProcess } from './support/cli-in-process.js';
import { buildFixtures, loadManifest } from '../src/conformance/index.js';
import { parseResults } from '../src/coverage/results.js';
import { i386Unavailable } from './support/i386.js';

buildFixtures();
const dir = mkdtempSync(join(tmpdir(), 'lxzone-conformance-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lxzone = lxzoneInProcess;

describe('lxzone conformance', () => {
  it('runs the filtered cases, reports per case and per syscall, writes the result file', async () => {
    const results = join(dir, 'results.json');
    const r = await lxzone('conformance', '--filter', '^x86_64:probe_(emulated/uname|files/openat2)$', '--results', results, '--no-programs', '--no-build', '--verbose');
    expect(r.stderr).toMatch(/\[1\/2\] x86_64  probe_emulated\/uname: pass\n/);
    expect(r.stdout).toMatch(/^  x86_64  probe_files\/openat2: pass$/m);
    expect(r.stdout).toMatch(/^  x86_64: 2 exercised, 2 passed$/m);
    expect(r.stdout).toMatch(/^Known failures \(fixtures\/conformance\/known-failures.json\): \d+$/m);
    expect(r.stdout).toMatch(/^2 cases: 2 passed, 0 failed, 0 known failures, 0 skipped$/m);
    expect(r.stdout).toMatch(/^syscalls exercised: x86_64 2$/m);
    expect(r.code).toBe(0);
    const file = parseResults(JSON.parse(readFileSync(results, 'utf8')), results);
    expect(Object.keys(file.syscalls.x86_64!).sort()).toEqual(['openat2', 'uname']);
  }, 120_000);

  // The i386 entry where the kernel runs i386 programs (see i386Unavailable).
  const abi = i386Unavailable() ? 'x86_64' : 'i386';
  it(`--json - prints the results instead of the report (${abi})`, async () => {
    const r = await lxzone('conformance', '--filter', `^${abi}:probe_emulated/sysinfo$`, '--results', join(dir, 'r2.json'), '--no-programs', '--no-build', '--json', '-');
    const data = JSON.parse(r.stdout);
    expect(data.cases.map((c: { id: string; abi: string; status: string }) => [c.abi, c.id, c.status])).toEqual([[abi, 'probe_emulated/sysinfo', 'pass']]);
    expect(data.syscalls[abi].sysinfo).toEqual({ exercised: true, passed: true });
  }, 120_000);

  it('exits 1 on a failing case, 0 when known-failures lists it, and prints the diff and the reason', async () => {
    const m = loadManifest();
    m.probes = { probe_emulated: { cases: { uname: { zone: [{ syscall: 'uname', nth: 1, data: { release: '1.0-wrong', nodename: '${hostname}' } }] } } } };
    const manifest = join(dir, 'manifest.json');
    writeFileSync(manifest, JSON.stringify(m));
    const args = ['conformance', '--manifest', manifest, '--filter', '^x86_64:probe_emulated/uname$', '--results', join(dir, 'r3.json'), '--no-programs', '--no-build'];
    const failed = await lxzone(...args);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/x86_64  probe_emulated\/uname: FAIL\n\s+line 1 uname: data.release: zone "[^"]+", expected "1.0-wrong"/);
    const known = join(dir, 'known.json');
    writeFileSync(known, JSON.stringify({ version: 1, failures: { 'probe_emulated/uname': 'a test of the known-failures path' } }));
    const listed = await lxzone(...args, '--known-failures', known);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/probe_emulated\/uname: FAIL \(known\)/);
    expect(listed.stdout).toMatch(/known failure: a test of the known-failures path/);
    expect(listed.stdout).toMatch(/^  probe_emulated\/uname: a test of the known-failures path$/m);
  }, 120_000);

  it('rejects a bad --filter with exit status 2', async () => {
    const r = await lxzone('conformance', '--filter', '(', '--no-build');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--filter: not a regular expression/);
  });

  it('says so when --filter matches no case, and keeps the last result file', async () => {
    const results = join(dir, 'kept.json');
    writeFileSync(results, '{"kept": true}\n');
    const r = await lxzone('conformance', '--filter', '^nothing-is-called-this$', '--results', results, '--no-programs', '--no-build');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--filter ^nothing-is-called-this$: matches no case');
    expect(readFileSync(results, 'utf8')).toBe('{"kept": true}\n');
  });
});
