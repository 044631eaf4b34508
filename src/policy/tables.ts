// The policy code's access to the syscall tables (src/tables, one table for
// every consumer). A TableSource can be swapped in tests (synthetic tables
// that force long jumps, big programs, …).
import { hostAbis as tablesHostAbis, loadTable } from '../tables/index.js';
import type { Abi, SyscallEntry, SyscallTable } from '../tables/types.js';

export type TableSource = (abi: Abi) => SyscallTable;

/** The generated, validated table of one ABI. */
export const defaultTables: TableSource = (abi) => loadTable(abi);

/** The ABIs a filter on this host must handle (x86_64 hosts run i386 binaries too). */
export function hostAbis(): Abi[] {
  return tablesHostAbis();
}

const nameMaps = new WeakMap<SyscallTable, Map<string, SyscallEntry>>();

export function byName(table: SyscallTable): Map<string, SyscallEntry> {
  let m = nameMaps.get(table);
  if (!m) {
    m = new Map(table.syscalls.map((s) => [s.name, s]));
    nameMaps.set(table, m);
  }
  return m;
}
