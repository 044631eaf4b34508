// Readers for the syscall sources installed on this machine (linux-libc-dev's
// uapi headers). The generator builds syscall-tables/linux/*.json from them;
// the table tests read them again to catch drift between the committed
// tables and the headers. Pure text parsing except the generic table, which
// needs the C preprocessor because asm-generic/unistd.h selects entries with
// #if on the architecture's __ARCH_WANT_* macros.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Abi } from './types.js';

export const UAPI_HEADERS = {
  x86_64: '/usr/include/x86_64-linux-gnu/asm/unistd_64.h',
  i386: '/usr/include/x86_64-linux-gnu/asm/unistd_32.h',
  aarch64: '/usr/include/asm-generic/unistd.h',
} as const satisfies Record<Abi, string>;

export const UAPI_VERSION_HEADER = '/usr/include/linux/version.h';
export const SOCKETCALL_HEADER = '/usr/include/linux/net.h';
export const IPC_HEADER = '/usr/include/linux/ipc.h';

/**
 * arm64's uapi asm/unistd.h defines these before including
 * asm-generic/unistd.h (arch/arm64/include/uapi/asm/unistd.h, Linux 5.14+):
 * they decide which optional generic entries exist on aarch64.
 */
export const AARCH64_ARCH_WANT = [
  '__ARCH_WANT_RENAMEAT',
  '__ARCH_WANT_NEW_STAT',
  '__ARCH_WANT_SET_GET_RLIMIT',
  '__ARCH_WANT_TIME32_SYSCALLS',
  '__ARCH_WANT_SYS_CLONE3',
  '__ARCH_WANT_MEMFD_SECRET',
];

export interface HeaderSyscall {
  nr: number;
  name: string;
  /** Kernel entry point when the header names it (only asm-generic/unistd.h does). */
  entry?: string;
}

/** `#define __NR_<name> <number>` lines of an x86 unistd_{64,32}.h. */
export function parseUnistdDefines(text: string): HeaderSyscall[] {
  const out: HeaderSyscall[] = [];
  for (const m of text.matchAll(/^#define\s+__NR_([A-Za-z0-9_]+)\s+(\d+)\s*$/gm)) {
    out.push({ name: m[1]!, nr: Number(m[2]) });
  }
  return out.sort((a, b) => a.nr - b.nr);
}

export function readX86Header(abi: 'x86_64' | 'i386'): HeaderSyscall[] {
  return parseUnistdDefines(readFileSync(UAPI_HEADERS[abi], 'utf8'));
}

/**
 * The generic (aarch64) table: asm-generic/unistd.h preprocessed as arm64
 * would, with __BITS_PER_LONG 64 and arm64's __ARCH_WANT_* set. Two passes
 * of cpp: -dM for the __NR_ names (some are aliases of __NR3264_*), and an
 * expansion of __SYSCALL(nr, entry) for the entry points.
 */
export function readGenericHeader(): HeaderSyscall[] {
  const dir = mkdtempSync(join(tmpdir(), 'lxzone-unistd-'));
  try {
    // A private asm/bitsperlong.h: the host's x86 one would pick 32 or 64 from
    // the compiler's target, not from the ABI we are reading.
    mkdirSync(join(dir, 'asm'));
    writeFileSync(join(dir, 'asm', 'bitsperlong.h'), '#define __BITS_PER_LONG 64\n');
    const wants = AARCH64_ARCH_WANT.map((w) => `#define ${w}\n`).join('');
    const src = join(dir, 'generic.h');
    writeFileSync(src, `${wants}#define __SYSCALL(nr, entry) LXZONE_SYSCALL nr entry\n#include <asm-generic/unistd.h>\n`);
    const cpp = (extra: string[]) =>
      execFileSync('cpp', ['-undef', '-nostdinc', '-P', `-I${dir}`, '-I/usr/include', ...extra, src], {
        encoding: 'utf8', maxBuffer: 16 << 20,
      });
    const macros = new Map<string, string>();
    for (const m of cpp(['-dM']).matchAll(/^#define\s+(__NR\w+)\s+(\S+)\s*$/gm)) macros.set(m[1]!, m[2]!);
    const resolve = (v: string, depth = 0): number | undefined => {
      if (/^\d+$/.test(v)) return Number(v);
      const next = macros.get(v);
      return next === undefined || depth > 8 ? undefined : resolve(next, depth + 1);
    };
    const entries = new Map<number, string>();
    for (const m of cpp([]).matchAll(/LXZONE_SYSCALL\s+(\d+)\s+(\w+)/g)) entries.set(Number(m[1]), m[2]!);
    const out: HeaderSyscall[] = [];
    for (const [macro, value] of macros) {
      if (!macro.startsWith('__NR_')) continue;
      const name = macro.slice('__NR_'.length);
      // Markers, not syscalls: the table size and the start of the
      // arch-specific range.
      if (name === 'syscalls' || name === 'arch_specific_syscall') continue;
      const nr = resolve(value);
      if (nr === undefined) throw new Error(`${UAPI_HEADERS.aarch64}: cannot resolve ${macro} = ${value}`);
      out.push({ nr, name, entry: entries.get(nr) });
    }
    return out.sort((a, b) => a.nr - b.nr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function readHeader(abi: Abi): HeaderSyscall[] {
  return abi === 'aarch64' ? readGenericHeader() : readX86Header(abi);
}

/**
 * The headers' kernel series, "6.1", from linux/version.h. Not the sublevel:
 * a stable update's headers (Debian 12's 6.1.187, then 6.1.192) carry the
 * same syscall numbers, and tables that named it went stale on every such
 * update (the generator's --check failed on a host with newer headers).
 */
export function uapiVersion(): string {
  const text = readFileSync(UAPI_VERSION_HEADER, 'utf8');
  const get = (k: string) => /\d+/.exec(new RegExp(`#define ${k}\\s+(\\d+)`).exec(text)?.[1] ?? '')?.[0];
  return [get('LINUX_VERSION_MAJOR'), get('LINUX_VERSION_PATCHLEVEL')].filter((x) => x !== undefined).join('.');
}

/** Operations of i386's multiplexers: socketcall's SYS_* (linux/net.h), ipc's SEMOP.. (linux/ipc.h). */
export function readMultiplexerCalls(): { socketcall: { value: number; name: string }[]; ipc: { value: number; name: string }[] } {
  const net = readFileSync(SOCKETCALL_HEADER, 'utf8');
  const socketcall = [...net.matchAll(/^#define\s+SYS_([A-Z0-9_]+)\s+(\d+)\b/gm)]
    .map((m) => ({ value: Number(m[2]), name: m[1]!.toLowerCase() }));
  const ipcText = readFileSync(IPC_HEADER, 'utf8');
  const ipc = [...ipcText.matchAll(/^#define\s+((?:SEM|MSG|SHM)[A-Z]+)\s+(\d+)\s*$/gm)]
    .map((m) => ({ value: Number(m[2]), name: m[1]!.toLowerCase() }));
  return { socketcall, ipc };
}
