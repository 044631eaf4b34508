// Per-syscall verdicts from the case results, and the result file that
// `lxzone syscalls` reads (.lxzone/conformance.json in the package root,
// schema in src/coverage/results.ts). A syscall is exercised when a compared
// line of some case made it; it passed when every such line behaved as
// expected (identical to native, the manifest's zone value, or the profile's
// refusal).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DEFAULT_RESULTS } from '../coverage/results.js';
import type { Abi } from '../tables/types.js';
import type { ProfileView } from './profile.js';
import type { CaseResult, ConformanceResultFile, SyscallVerdict } from './types.js';

export { DEFAULT_RESULTS };

/** Lines named "(check)" or "(unknown)" report no syscall of their own. */
export function isPseudo(name: string): boolean {
  return name.startsWith('(');
}

export function aggregateSyscalls(results: CaseResult[], view: (abi: Abi) => ProfileView): {
  syscalls: Partial<Record<Abi, Record<string, SyscallVerdict>>>;
  unknownNames: Partial<Record<Abi, string[]>>;
} {
  const syscalls: Partial<Record<Abi, Record<string, SyscallVerdict>>> = {};
  const unknown: Partial<Record<Abi, Set<string>>> = {};
  for (const r of results) {
    if (r.kind !== 'probe') continue;
    for (const l of r.lines) {
      if (isPseudo(l.syscall)) continue;
      if (!view(r.abi).has(l.syscall)) {
        (unknown[r.abi] ??= new Set()).add(l.syscall);
        continue;
      }
      const table = (syscalls[r.abi] ??= {});
      const v = (table[l.syscall] ??= { exercised: true, passed: true });
      if (l.status === 'fail') v.passed = false;
    }
  }
  const unknownNames: Partial<Record<Abi, string[]>> = {};
  for (const [abi, set] of Object.entries(unknown) as [Abi, Set<string>][]) unknownNames[abi] = [...set].sort();
  for (const table of Object.values(syscalls)) {
    const sorted = Object.fromEntries(Object.entries(table!).sort(([a], [b]) => a.localeCompare(b)));
    Object.assign(table!, sorted);
  }
  return { syscalls, unknownNames };
}

/** Writes the result file atomically (temp file, then rename). */
export function writeResults(file: string, data: ConformanceResultFile): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}
