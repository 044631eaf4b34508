// The committed syscall tables against the sources on this machine: the
// installed uapi headers (drift), the reviewed overlay, the generator itself
// (--check), linux/audit.h, and, where tracefs is reachable, the running
// kernel's own record of each syscall's arguments.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ABIS, AUDIT_ARCH, loadTable, syscallByName, syscallByNr, TABLES_DIR } from '../src/tables/index.js';
import { readHeader, readMultiplexerCalls } from '../src/tables/sources.js';

const ROOT = join(TABLES_DIR, '..', '..');
const overlay = JSON.parse(readFileSync(join(TABLES_DIR, 'overlay.json'), 'utf8')) as {
  syscalls: { abi: string; nr: number; name: string; since: string; ref: string }[];
  holes: { abi: string; from: number; to: number; reason: string }[];
};

describe.each(ABIS)('syscall table %s', (abi) => {
  const table = loadTable(abi);
  const header = readHeader(abi);

  it('has every __NR_ of the installed header, with the same number', () => {
    expect(header.length).toBeGreaterThan(250);
    const wrong = header
      .filter((h) => syscallByName(abi, h.name)?.nr !== h.nr)
      .map((h) => `${h.name}: header ${h.nr}, table ${syscallByName(abi, h.name)?.nr}`);
    expect(wrong).toEqual([]);
  });

  it('says "uapi" only for what the header has, and "overlay" only for what it lacks', () => {
    const inHeader = new Set(header.map((h) => `${h.nr}:${h.name}`));
    for (const s of table.syscalls) {
      expect(s.source === 'uapi', `${s.name} (${s.nr}) source ${s.source}`).toBe(inHeader.has(`${s.nr}:${s.name}`));
    }
  });

  it('takes every overlay entry, which cites a Linux version and a kernel table', () => {
    const mine = overlay.syscalls.filter((o) => o.abi === abi);
    expect(mine.length).toBeGreaterThan(0);
    for (const o of mine) {
      expect(o.since, o.name).toMatch(/^\d+\.\d+$/);
      expect(o.ref, o.name).toMatch(/\S/);
      expect(syscallByNr(abi, o.nr)).toMatchObject({ name: o.name, source: `overlay:${o.since}` });
    }
  });

  it('leaves no number unexplained: each of 0..maxNr is a syscall or a hole with a reason', () => {
    const holes = new Map(table.holes.map((h) => [h.nr, h.reason]));
    for (let nr = 0; nr <= table.maxNr; nr++) {
      const s = syscallByNr(abi, nr);
      expect(s !== undefined || (holes.get(nr) ?? '').length > 0, `${abi} ${nr}`).toBe(true);
      expect(s !== undefined && holes.has(nr), `${abi} ${nr} both syscall and hole`).toBe(false);
    }
    expect(syscallByNr(abi, table.maxNr + 1)).toBeUndefined();
  });

  it('gives every syscall at most six argument registers, a class and an entry point', () => {
    for (const s of table.syscalls) {
      expect(s.args.length, s.name).toBeLessThanOrEqual(6);
      expect(s.class, s.name).toMatch(/^[a-z]+$/);
      expect(s.entry, s.name).toMatch(/^sys_/);
      if (s.entry === 'sys_ni_syscall') expect(s.unimplemented, s.name).toBeTruthy();
    }
  });

  it('carries the AUDIT_ARCH value of linux/audit.h', () => {
    const out = execFileSync('cpp', ['-P', '-include', 'linux/audit.h', '-'], {
      input: `${table.auditArchName}\n`, encoding: 'utf8',
    }).trim().split('\n').pop()!;
    expect(out).toMatch(/^[\s()0-9a-fA-FxXuU|]+$/);
    const value = Function(`return (${out.replace(/[uU]/g, '')}) >>> 0`)() as number;
    expect(table.auditArch).toBe(value);
    expect(table.auditArch).toBe(AUDIT_ARCH[abi].value);
  });
});

describe('the generic (aarch64) table', () => {
  it('records the entry points asm-generic/unistd.h names', () => {
    for (const h of readHeader('aarch64')) expect(syscallByName('aarch64', h.name)?.entry, h.name).toBe(h.entry);
  });
  it('maps the 32/64 aliases the 64-bit way (fstat 80 -> sys_newfstat, newfstatat 79, mmap 222)', () => {
    expect(syscallByName('aarch64', 'fstat')).toMatchObject({ nr: 80, entry: 'sys_newfstat' });
    expect(syscallByName('aarch64', 'newfstatat')?.nr).toBe(79);
    expect(syscallByName('aarch64', 'mmap')?.nr).toBe(222);
    expect(syscallByName('aarch64', 'fstat64')).toBeUndefined();
    expect(syscallByName('aarch64', 'clock_gettime64')).toBeUndefined();
  });
  it('passes clone its arguments in the CLONE_BACKWARDS order', () => {
    expect(syscallByName('aarch64', 'clone')!.args.map((a) => a.name)).toEqual(['clone_flags', 'newsp', 'parent_tidptr', 'tls', 'child_tidptr']);
    expect(syscallByName('x86_64', 'clone')!.args.map((a) => a.name)).toEqual(['clone_flags', 'newsp', 'parent_tidptr', 'child_tidptr', 'tls']);
  });
});

describe('the newest syscalls (Linux 6.18 ABI)', () => {
  const newest: [string, number][] = [
    ['cachestat', 451], ['fchmodat2', 452], ['map_shadow_stack', 453], ['futex_wake', 454], ['futex_wait', 455],
    ['futex_requeue', 456], ['statmount', 457], ['listmount', 458], ['lsm_get_self_attr', 459], ['lsm_set_self_attr', 460],
    ['lsm_list_modules', 461], ['mseal', 462], ['setxattrat', 463], ['getxattrat', 464], ['listxattrat', 465],
    ['removexattrat', 466], ['open_tree_attr', 467], ['file_getattr', 468], ['file_setattr', 469],
  ];
  it.each(ABIS)('are in %s with the shared numbers', (abi) => {
    for (const [name, nr] of newest) expect(syscallByName(abi, name)?.nr, `${abi} ${name}`).toBe(nr);
  });
  it('include x86_64 uretprobe (335) and uprobe (336)', () => {
    expect(syscallByNr('x86_64', 335)?.name).toBe('uretprobe');
    expect(syscallByNr('x86_64', 336)?.name).toBe('uprobe');
    expect(syscallByNr('x86_64', 337)).toBeUndefined();
  });
});

describe('i386 quirks', () => {
  it('socketcall and ipc carry their operations from linux/net.h and linux/ipc.h', () => {
    const { socketcall, ipc } = readMultiplexerCalls();
    expect(syscallByName('i386', 'socketcall')!.multiplexer).toEqual({ arg: 0, calls: socketcall });
    expect(syscallByName('i386', 'ipc')!.multiplexer).toEqual({ arg: 0, calls: ipc });
    expect(socketcall.find((c) => c.name === 'socket')?.value).toBe(1);
    expect(ipc.find((c) => c.name === 'shmat')?.value).toBe(21);
  });
  it('names the time64 and 32-bit-uid variants after the x86_64 syscall they are', () => {
    expect(syscallByName('i386', 'clock_gettime64')).toMatchObject({ nr: 403, variantOf: 'clock_gettime' });
    expect(syscallByName('i386', 'futex_time64')).toMatchObject({ nr: 422, variantOf: 'futex' });
    expect(syscallByName('i386', 'chown32')).toMatchObject({ variantOf: 'chown' });
    expect(syscallByName('i386', 'clock_gettime')!.variantOf).toBeUndefined();
  });
  it('lists both registers of a 64-bit value (pread64, fallocate)', () => {
    expect(syscallByName('i386', 'pread64')!.args.map((a) => a.name)).toEqual(['fd', 'ubuf', 'count', 'poslo', 'poshi']);
    expect(syscallByName('i386', 'fallocate')!.args).toHaveLength(6);
    expect(syscallByName('x86_64', 'fallocate')!.args).toHaveLength(4);
  });
});

describe('the generator', () => {
  it('reproduces the committed tables from the sources (--check)', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'gen-syscall-tables.ts'), '--check'], {
      cwd: ROOT, encoding: 'utf8',
    });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });
});

// The running kernel's trace events record each SYSCALL_DEFINE's argument
// names and types: where tracefs can be reached, the x86_64 table's
// arguments must be exactly those (types there carry no __user).
describe.runIf(process.arch === 'x64')('arguments against the running kernel (tracefs)', () => {
  it('match sys_enter_<fn>/format for every x86_64 syscall the kernel traces', (ctx) => {
    let dir = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].find((d) => existsSync(join(d, 'events', 'syscalls')));
    let mounted: string | undefined;
    if (!dir) {
      mounted = mkdtempSync(join(tmpdir(), 'lxzone-tracefs-'));
      if (spawnSync('mount', ['-t', 'tracefs', 'nodev', mounted]).status === 0) dir = mounted;
    }
    try {
      if (!dir || !existsSync(join(dir, 'events', 'syscalls'))) return ctx.skip('tracefs not reachable');
      const events = join(dir, 'events', 'syscalls');
      const traced = new Set(readdirSync(events).filter((e) => e.startsWith('sys_enter_')).map((e) => e.slice(10)));
      let compared = 0;
      for (const s of loadTable('x86_64').syscalls) {
        const fn = s.entry!.slice(4);
        if (!traced.has(fn)) continue;
        const format = readFileSync(join(events, `sys_enter_${fn}`, 'format'), 'utf8');
        const fields = [...format.matchAll(/^\s*field:(.+?);\s*offset:/gm)].map((m) => m[1]!.trim())
          .filter((d) => !/\b(common_\w+|__syscall_nr)$/.test(d));
        expect(s.args.map((a) => `${a.type} ${a.name}`.replace(/\* /g, '*')), s.name)
          .toEqual(fields.map((f) => f.replace(/\* /g, '*')));
        compared++;
      }
      expect(compared).toBeGreaterThan(300);
    } finally {
      if (mounted) {
        spawnSync('umount', [mounted]);
        rmdirSync(mounted);
      }
    }
  });
});
