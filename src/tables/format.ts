// The on-disk layout of syscall-tables/linux/<abi>.json: ordinary JSON, one
// syscall or hole per line so that a regenerated table reviews as a short
// diff. Used by the generator; the loader only parses.
import type { SyscallTable } from './types.js';

export function formatTable(t: SyscallTable): string {
  const head = {
    abi: t.abi,
    auditArch: t.auditArch,
    auditArchName: t.auditArchName,
    maxNr: t.maxNr,
    generatedFrom: t.generatedFrom,
  };
  const lines = ['{'];
  for (const [k, v] of Object.entries(head)) lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  lines.push('  "syscalls": [');
  t.syscalls.forEach((s, i) => lines.push(`    ${JSON.stringify(s)}${i < t.syscalls.length - 1 ? ',' : ''}`));
  lines.push('  ],');
  lines.push('  "holes": [');
  t.holes.forEach((h, i) => lines.push(`    ${JSON.stringify(h)}${i < t.holes.length - 1 ? ',' : ''}`));
  lines.push('  ]');
  lines.push('}');
  return lines.join('\n') + '\n';
}
