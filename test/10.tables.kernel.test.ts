// The reviewed overlay against the running kernel: each syscall newer than
// the installed headers, called by its number with zero arguments in a
// forked child, must be known to the kernel (any answer but ENOSYS), and the
// first number past the table must be unknown (no syscall of the host's ABI
// is missing from the table). Needs gcc; the i386 half needs gcc -m32.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, rmdirSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTable } from '../src/tables/index.js';
import { i386Unavailable } from './support/i386.js';

// argv: syscall numbers. Prints "nr errno" per number: 0 when the call
// returned >= 0, -N when the child died of signal N (uretprobe outside a
// trampoline gets SIGILL: known to the kernel all the same).
const PROBE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    long nr = strtol(argv[i], 0, 10);
    int fds[2];
    if (pipe(fds)) return 1;
    pid_t p = fork();
    if (p == 0) {
      close(fds[0]);
      alarm(5);
      long r = syscall(nr, 0, 0, 0, 0, 0, 0);
      int e = r < 0 ? errno : 0;
      if (write(fds[1], &e, sizeof e) != sizeof e) _exit(2);
      _exit(0);
    }
    close(fds[1]);
    int e = 0, st = 0;
    ssize_t n = read(fds[0], &e, sizeof e);
    close(fds[0]);
    waitpid(p, &st, 0);
    if (n != sizeof e) e = WIFSIGNALED(st) ? -WTERMSIG(st) : -1000;
    printf("%ld %d\n", nr, e);
  }
  return 0;
}
`;

const ENOSYS = 38;
const dir = mkdtempSync(join(tmpdir(), 'lxzone-nrprobe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function build(flags: string[], out: string): string | undefined {
  const src = join(dir, 'probe.c');
  writeFileSync(src, PROBE);
  const r = spawnSync('gcc', [...flags, '-static', '-O1', '-o', join(dir, out), src], { encoding: 'utf8' });
  return r.status === 0 ? join(dir, out) : undefined;
}

function probe(bin: string, nrs: number[]): Map<number, number> {
  const out = execFileSync(bin, nrs.map(String), { encoding: 'utf8' });
  return new Map(out.trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]));
}

const [major, minor] = release().split('.').map(Number) as [number, number];
const atLeast = (v: string) => {
  const [a, b] = v.split('.').map(Number) as [number, number];
  return major > a || (major === a && minor >= b);
};

/** Kernel functions the running kernel was built with (tracefs), if tracefs can be reached. */
function builtFunctions(): Set<string> | undefined {
  let base = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((d) => existsSync(join(d, 'events', 'syscalls')));
  let mounted: string | undefined;
  if (!base) {
    mounted = mkdtempSync(join(tmpdir(), 'lxzone-tracefs-'));
    if (spawnSync('mount', ['-t', 'tracefs', 'nodev', mounted]).status === 0) base = mounted;
  }
  try {
    if (!base || !existsSync(join(base, 'events', 'syscalls'))) return undefined;
    return new Set(readdirSync(join(base, 'events', 'syscalls')).filter((e) => e.startsWith('sys_enter_')).map((e) => e.slice(10)));
  } finally {
    if (mounted) {
      spawnSync('umount', [mounted]);
      rmdirSync(mounted);
    }
  }
}

describe.runIf(process.arch === 'x64')('the overlay on the running kernel', () => {
  const built = builtFunctions();
  const cases: [string, string[]][] = [['x86_64', []], ['i386', ['-m32']]];

  it.for(cases)('%s: every overlay syscall the kernel has answers something other than ENOSYS', ([abi, flags], ctx) => {
    const bin = build(flags, `probe-${abi}`);
    if (!bin) return ctx.skip(`gcc ${flags.join(' ')} -static cannot build the probe`);
    if (abi === 'i386' && i386Unavailable()) return ctx.skip(i386Unavailable());
    const table = loadTable(abi as 'x86_64' | 'i386');
    const overlay = table.syscalls.filter((s) => s.source.startsWith('overlay:'));
    const got = probe(bin, overlay.map((s) => s.nr));
    let checked = 0;
    for (const s of overlay) {
      const since = s.source.slice('overlay:'.length);
      const fn = s.entry!.slice(4);
      // Too new for this kernel, or configured out of it (map_shadow_stack without CONFIG_X86_USER_SHADOW_STACK).
      if (!atLeast(since) || (built && !built.has(fn))) continue;
      expect(got.get(s.nr), `${abi} ${s.name} (${s.nr}), Linux ${since}, on ${release()}`).not.toBe(ENOSYS);
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it.for(cases)('%s: every hole answers ENOSYS', ([abi, flags], ctx) => {
    const bin = build(flags, `probe-${abi}`);
    if (!bin) return ctx.skip(`gcc ${flags.join(' ')} -static cannot build the probe`);
    if (abi === 'i386' && i386Unavailable()) return ctx.skip(i386Unavailable());
    const holes = loadTable(abi as 'x86_64' | 'i386').holes.map((h) => h.nr);
    const got = probe(bin, holes);
    expect(holes.filter((nr) => got.get(nr) !== ENOSYS)).toEqual([]);
  });

  it.for(cases)('%s: the number after the table is unknown to a kernel of the reviewed ABI (<= 6.18)', ([abi, flags], ctx) => {
    if (atLeast('6.19')) return ctx.skip(`kernel ${release()} is newer than the overlay's 6.18: review the overlay`);
    const bin = build(flags, `probe-${abi}`);
    if (!bin) return ctx.skip(`gcc ${flags.join(' ')} -static cannot build the probe`);
    if (abi === 'i386' && i386Unavailable()) return ctx.skip(i386Unavailable());
    const next = loadTable(abi as 'x86_64' | 'i386').maxNr + 1;
    expect(probe(bin, [next]).get(next)).toBe(ENOSYS);
  });
});
