// Validation of a syscall table as loaded: the schema, then the rules that
// make the table usable as a dense array indexed by number: sorted, unique
// numbers and names, every number 0..maxNr either a syscall or a hole.
import { lazySchema } from '../lazy-schema.js';
import { LxzoneError } from '../errors.js';
import { AUDIT_ARCH } from './arch.js';
import { tableSchema } from './schema.js';
import type { Abi, SyscallTable } from './types.js';

const check = lazySchema(tableSchema);

export function validateTable(data: unknown, abi: Abi, where: string): SyscallTable {
  if (!check(data)) {
    const first = check.errors!.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new LxzoneError(`${where}: not a syscall table: ${first}`, { where, code: 'EINVAL' });
  }
  const t = data as unknown as SyscallTable;
  const bad = (msg: string): never => {
    throw new LxzoneError(`${where}: ${msg}`, { where, code: 'EINVAL' });
  };
  if (t.abi !== abi) bad(`abi is "${t.abi}", expected "${abi}"`);
  if (t.auditArch !== AUDIT_ARCH[abi].value || t.auditArchName !== AUDIT_ARCH[abi].name) {
    bad(`auditArch ${t.auditArchName}=0x${t.auditArch.toString(16)}, expected ${AUDIT_ARCH[abi].name}`);
  }
  const slots: (string | undefined)[] = new Array(t.maxNr + 1);
  const names = new Set<string>();
  let prev = -1;
  for (const s of t.syscalls) {
    if (s.nr <= prev) bad(`syscalls not in ascending order at ${s.name} (${s.nr})`);
    if (s.nr > t.maxNr) bad(`${s.name} (${s.nr}) is above maxNr ${t.maxNr}`);
    if (names.has(s.name)) bad(`${s.name} appears twice`);
    names.add(s.name);
    slots[s.nr] = s.name;
    prev = s.nr;
  }
  if (prev !== t.maxNr) bad(`maxNr is ${t.maxNr} but the last syscall is ${prev}`);
  for (const h of t.holes) {
    if (h.nr > t.maxNr) bad(`hole ${h.nr} is above maxNr ${t.maxNr}`);
    if (slots[h.nr] !== undefined) bad(`hole ${h.nr} is also ${slots[h.nr]}`);
    slots[h.nr] = '';
  }
  for (let nr = 0; nr <= t.maxNr; nr++) if (slots[nr] === undefined) bad(`${nr} is neither a syscall nor a hole`);
  return t;
}
