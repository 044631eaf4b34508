// syscall-tables/rules/constants.json is reviewed data; this holds it equal to
// the C headers installed on the machine (compiled and printed by cc), so a
// typo in a constant cannot silently weaken a rule.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { constants, parseValue } from '../src/policy/constants.js';

/** Constants that are lxzone's own names, not C macros: masks made of header values (their comments say which). */
const OWN = new Set(['PERSONALITY_QUERY', 'PERSONALITY_REFUSED', 'SOCK_TYPE_MASK', 'LOOP_CMD_MASK', 'LOOP_CTL_MASK', 'INT_SIGN', 'SO_BUFFORCE_MASK', 'BLK_IOC_TYPE', 'IOC_TYPE_MASK', 'MS_NOT_PLAIN_OPTIONS']);

describe('constants.json', () => {
  it('matches the installed headers for every C constant', () => {
    const names = [...constants().keys()].filter((n) => !OWN.has(n));
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-consts-'));
    try {
      const src = [
        '#include <stdio.h>', '#include <linux/sched.h>', '#include <sys/ioctl.h>', '#include <sys/socket.h>',
        '#include <sys/personality.h>', '#include <sys/stat.h>', '#include <time.h>', '#include <linux/loop.h>', '#include <sys/resource.h>', '#include <sys/mman.h>',
        // PIDFD_THREAD is Linux 6.9's, defined there as O_EXCL; older headers lack it.
        '#include <fcntl.h>', '#ifndef PIDFD_THREAD', '#define PIDFD_THREAD O_EXCL', '#endif', 'int main(void) {',
        ...names.map((n) => `  printf("%s %llx\\n", "${n}", (unsigned long long)(${n}));`),
        '  return 0; }',
      ].join('\n');
      writeFileSync(join(dir, 'c.c'), src);
      execFileSync('cc', ['-o', join(dir, 'c'), join(dir, 'c.c')], { stdio: 'pipe' });
      const out = execFileSync(join(dir, 'c'), { encoding: 'utf8' });
      const fromHeaders = new Map(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
      for (const n of names) expect(`${n}=0x${constants().get(n)!.value.toString(16)}`).toBe(`${n}=0x${fromHeaders.get(n)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('MS_NOT_PLAIN_OPTIONS is every mount flag bit but the plain options its comment names (sys/mount.h)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-consts-'));
    try {
      const plain = 'MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC|MS_SYNCHRONOUS|MS_DIRSYNC|MS_NOATIME|MS_NODIRATIME|MS_SILENT|MS_RELATIME|MS_STRICTATIME|MS_LAZYTIME';
      writeFileSync(join(dir, 'c.c'), `#include <stdio.h>\n#include <sys/mount.h>\nint main(void) { printf("%llx\\n", ~(unsigned long long)(${plain})); return 0; }\n`);
      execFileSync('cc', ['-o', join(dir, 'c'), join(dir, 'c.c')], { stdio: 'pipe' });
      expect(`0x${constants().get('MS_NOT_PLAIN_OPTIONS')!.value.toString(16)}`).toBe(`0x${execFileSync(join(dir, 'c'), { encoding: 'utf8' }).trim()}`);
      const doc = JSON.parse(readFileSync('syscall-tables/rules/constants.json', 'utf8')) as { constants: Record<string, { comment: string }> };
      expect(doc.constants.MS_NOT_PLAIN_OPTIONS!.comment).toContain(plain);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives every constant a comment', () => {
    const doc = JSON.parse(readFileSync('syscall-tables/rules/constants.json', 'utf8')) as { constants: Record<string, { comment?: string }> };
    for (const [n, c] of Object.entries(doc.constants)) expect(c.comment, n).toBeTruthy();
  });

  it('parses numbers, negatives and or-ed symbols', () => {
    expect(parseValue('CLONE_NEWUSER|CLONE_NEWNET')).toEqual({ value: 0x50000000n });
    expect(parseValue('0x10|1')).toEqual({ value: 0x11n });
    expect(parseValue(-100)).toEqual({ value: 0xffffffffffffff9cn });
    expect(parseValue({ value: 'AF_PACKET', comment: 'x' })).toEqual({ value: 17n });
    expect(parseValue('AF_NOPE')).toHaveProperty('error');
    expect(parseValue(2 ** 60)).toHaveProperty('error');
  });
});
