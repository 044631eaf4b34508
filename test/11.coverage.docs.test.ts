// docs/syscalls.md is generated (npm run gen:docs); it must match what the
// current tables and rules render, so behaviour and description agree.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSyscallDocs } from '../src/coverage/docs.js';
import { ABIS, loadTable, TABLES_DIR } from '../src/tables/index.js';

const DOC = join(TABLES_DIR, '..', '..', 'docs', 'syscalls.md');

describe('docs/syscalls.md', () => {
  const rendered = renderSyscallDocs();
  it('is up to date with the tables and the rules (else: npm run gen:docs)', () => {
    expect(readFileSync(DOC, 'utf8') === rendered, `${DOC} is stale: run npm run gen:docs`).toBe(true);
  });
  it('lists every syscall of every ABI', () => {
    for (const abi of ABIS) {
      const section = rendered.split(`\n## ${abi}\n`)[1]!.split('\n## ')[0]!;
      for (const s of loadTable(abi).syscalls) expect(section, `${abi} ${s.name}`).toContain(`| ${s.nr} | \`${s.name}\` |`);
    }
  });
});
