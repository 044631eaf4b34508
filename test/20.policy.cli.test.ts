// `lxzone policy check|show|import-docker`, run in-process through the real
// command line parser.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lxzoneInProcess } from './support/cli-in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'lxzone-policy-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lxzone = lxzoneInProcess;

describe('lxzone policy', () => {
  it('check: a shipped profile is ok', async () => {
    const r = await lxzone('policy', 'check', 'syscall-tables/rules/default.json');
    expect(r).toMatchObject({ code: 0, stdout: 'syscall-tables/rules/default.json: ok\n' });
  });

  it('check: an invalid file fails with the file, rule and reason on stderr', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ profile: 'bad', default: { disposition: 'host' }, syscalls: [
      { names: ['ioctl'], disposition: 'host', rules: [{ when: [{ arg: 7, op: 'eq', value: 1 }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] },
      { names: ['mount'], disposition: 'emulate:mountd', reason: 'not-yet', note: 'n' },
    ] }));
    const r = await lxzone('policy', 'check', file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}: syscalls[0] (ioctl).rules[0].when[0].arg: must be <= 5`);
    const json = await lxzone('policy', 'check', '--json', file);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).ok).toBe(false);
    writeFileSync(file, JSON.stringify({ profile: 'bad', default: { disposition: 'host' }, syscalls: [
      { names: ['mount'], disposition: 'emulate:mountd', reason: 'not-yet', note: 'n' },
    ] }));
    expect((await lxzone('policy', 'check', file)).stderr).toContain(`${file}: syscalls[0] (mount): unknown handler "mountd"`);
  });

  it('show: a line per syscall with disposition, reason and rules; --json resolves', async () => {
    const r = await lxzone('policy', 'show', 'default', '--abi', 'x86_64');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\s+63 uname\s+emulate:uname\s+\[no-equivalent\]/m);
    expect(r.stdout).toMatch(/^\s+16 ioctl\s+host \(otherwise\)/m);
    expect(r.stdout).toMatch(/if arg1 eq 0x5412 \(32-bit\) -> errno:EPERM/);
    const j = JSON.parse((await lxzone('policy', 'show', 'strict', '--abi', 'i386', '--json')).stdout);
    expect(j.abi).toBe('i386');
    expect(j.unsupported).toBe('sigsys');
    expect(j.syscalls.find((s: { name: string }) => s.name === 'ptrace').disposition).toBe('kill');
  });

  it('show --bpf: the disassembled filter, arch check first', async () => {
    const r = await lxzone('policy', 'show', 'default', '--bpf');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('0000: ld  arch');
    expect(lines.at(-1)).toMatch(/^; \d+ instructions for x86_64, i386$/);
  });

  it('compile: writes the program and the dispatch table', async () => {
    const bpf = join(dir, 'f.bpf');
    const disp = join(dir, 'f.dispatch');
    const r = await lxzone('policy', 'compile', 'default', '-o', bpf, '--dispatch', disp, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(readFileSync(bpf).length).toBe(s.instructions * 8);
    expect(readFileSync(disp).readUInt32LE(0)).toBe(0x445a584c);
  });

  it('show: an unknown profile is an error naming it', async () => {
    const r = await lxzone('policy', 'show', 'nosuch');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('unknown profile "nosuch"');
  });

  it('import-docker: writes a rules file that check accepts, notes on stderr', async () => {
    const src = join(dir, 'My Docker.json');
    writeFileSync(src, JSON.stringify({
      defaultAction: 'SCMP_ACT_ERRNO',
      listenerPath: '/run/agent.sock',
      syscalls: [
        { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' },
        { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
      ],
    }));
    const out = join(dir, 'imported.json');
    const r = await lxzone('policy', 'import-docker', src, '-o', out);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('"listenerPath" is not supported');
    const rules = JSON.parse(readFileSync(out, 'utf8'));
    expect(rules.profile).toBe('my-docker');
    expect((await lxzone('policy', 'check', out)).code).toBe(0);
    const docker = await lxzone('policy', 'check', src);
    expect(docker.code).toBe(0);
  });
});
