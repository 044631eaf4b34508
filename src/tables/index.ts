// The Linux syscall tables, loaded from syscall-tables/linux/<abi>.json,
// validated once and cached. Every consumer (policy compiler, dispatch table,
// coverage report, docs) goes through here.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LxzoneError } from '../errors.js';
import { ABIS, type Abi, type SyscallEntry, type SyscallTable } from './types.js';
import { validateTable } from './validate.js';

export { ABIS, SYSCALL_CLASSES } from './types.js';
export type { Abi, SyscallArg, SyscallClass, SyscallEntry, SyscallHole, SyscallTable, SyscallMultiplexer } from './types.js';
export { AUDIT_ARCH, X32_SYSCALL_BIT } from './arch.js';

// src/tables/ and dist/tables/ are both two levels below the package root.
export const TABLES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'syscall-tables', 'linux');

interface Loaded {
  table: SyscallTable;
  byName: Map<string, SyscallEntry>;
  byNr: (SyscallEntry | undefined)[];
}

const cache = new Map<Abi, Loaded>();

export function isAbi(s: string): s is Abi {
  return (ABIS as readonly string[]).includes(s);
}

function load(abi: Abi): Loaded {
  const hit = cache.get(abi);
  if (hit) return hit;
  if (!isAbi(abi)) throw new LxzoneError(`unknown ABI "${String(abi)}" (known: ${ABIS.join(', ')})`, { code: 'EINVAL', exitCode: 2 });
  const file = join(TABLES_DIR, `${abi}.json`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LxzoneError(`${file}: cannot read syscall table: ${(err as Error).message}`, { where: file, cause: err });
  }
  const table = validateTable(data, abi, file);
  const byNr: (SyscallEntry | undefined)[] = new Array(table.maxNr + 1);
  for (const s of table.syscalls) byNr[s.nr] = s;
  const loaded = { table, byName: new Map(table.syscalls.map((s) => [s.name, s])), byNr };
  cache.set(abi, loaded);
  return loaded;
}

/** The table of one ABI, validated on first use and cached. Treat it as read-only. */
export function loadTable(abi: Abi): SyscallTable {
  return load(abi).table;
}

export function syscallByName(abi: Abi, name: string): SyscallEntry | undefined {
  return load(abi).byName.get(name);
}

/** The syscall at a number, or undefined for a hole or a number beyond the table. */
export function syscallByNr(abi: Abi, nr: number): SyscallEntry | undefined {
  return Number.isInteger(nr) && nr >= 0 ? load(abi).byNr[nr] : undefined;
}

/**
 * The ABIs a filter on this host must handle: the native one and the 32-bit
 * one the kernel also runs (x86_64 runs i386 through IA32 emulation; an
 * aarch64 host's AArch32 compat is not supported here, so it is arm64 only).
 */
export function hostAbis(arch: string = process.arch): Abi[] {
  switch (arch) {
    case 'x64': return ['x86_64', 'i386'];
    case 'ia32': return ['i386'];
    case 'arm64': return ['aarch64'];
    default: throw new LxzoneError(`no syscall table for host architecture "${arch}"`, { code: 'ENOSYS' });
  }
}
