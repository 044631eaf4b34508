// Whether this kernel runs 32-bit x86 programs at all. A kernel built
// without IA32 emulation, or with it disabled at boot (ia32_emulation=0;
// confidential guests disable it themselves), refuses to exec an i386 ELF
// (ENOEXEC) and faults on int 0x80: there is no i386 entry to test, and no
// i386 way past a filter either. Probed with the smallest i386 program,
// written here rather than compiled, so the answer does not depend on
// gcc -m32 or on the fixtures being built. The conformance suite uses it to
// say why it has no i386 results; the tests, to say why they skip.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BASE = 0x08048000;
const EHDR = 52;
const PHDR = 32;
/** mov eax, 1 (exit); xor ebx, ebx; int 0x80 */
const CODE = [0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xcd, 0x80];

/** An ELF32 executable of one loadable segment that exits 0 through int 0x80. */
function exitZeroI386(): Buffer {
  const size = EHDR + PHDR + CODE.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1 /* 32-bit */, 1 /* little-endian */, 1 /* version */], 0);
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(3, 18); // EM_386
  b.writeUInt32LE(1, 20); // EV_CURRENT
  b.writeUInt32LE(BASE + EHDR + PHDR, 24); // entry: the code after the headers
  b.writeUInt32LE(EHDR, 28); // program headers right after this one
  b.writeUInt16LE(EHDR, 40);
  b.writeUInt16LE(PHDR, 42);
  b.writeUInt16LE(1, 44); // one program header
  b.writeUInt32LE(1, EHDR); // PT_LOAD of the whole file
  b.writeUInt32LE(0, EHDR + 4);
  b.writeUInt32LE(BASE, EHDR + 8);
  b.writeUInt32LE(BASE, EHDR + 12);
  b.writeUInt32LE(size, EHDR + 16);
  b.writeUInt32LE(size, EHDR + 20);
  b.writeUInt32LE(5, EHDR + 24); // R+X
  b.writeUInt32LE(0x1000, EHDR + 28);
  b.set(CODE, EHDR + PHDR);
  return b;
}

let cached: string | undefined | null = null;

/** Why i386 programs cannot run on this host, or undefined when they can (probed once). */
export function i386Unavailable(): string | undefined {
  if (cached !== null) return cached;
  if (process.arch !== 'x64') return (cached = `i386 programs run on x86-64 hosts only (this is ${process.arch})`);
  const dir = mkdtempSync(join(tmpdir(), 'lxzone-i386-probe-'));
  try {
    const exe = join(dir, 'exit0');
    writeFileSync(exe, exitZeroI386(), { mode: 0o755 });
    const r = spawnSync(exe, [], { timeout: 10_000 });
    if (r.status === 0) return (cached = undefined);
    // ENOEXEC makes execvp() hand the file to /bin/sh, which ends 127.
    const how = r.error ? (r.error as NodeJS.ErrnoException).code : r.signal ? `killed by ${r.signal}` : r.status === 127 ? 'no exec (ENOEXEC)' : `exit ${r.status}`;
    return (cached = `this kernel does not run i386 programs (IA32 emulation off or disabled at boot: a minimal i386 ELF gave ${how})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
