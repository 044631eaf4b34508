// Builds syscall-tables/linux/{x86_64,i386,aarch64}.json: the Linux syscall
// ABI as data, the one table every other part reads.
//
//   npx tsx scripts/gen-syscall-tables.ts            write the tables
//   npx tsx scripts/gen-syscall-tables.ts --check    exit 1 if they are stale
//   npx tsx scripts/gen-syscall-tables.ts --import-tracefs /sys/kernel/tracing
//       refresh prototypes.json's argument lists from the running kernel's
//       syscall trace events (events/syscalls/sys_enter_*/format), which
//       carry each SYSCALL_DEFINE's argument names and types
//
// Sources, in order of authority:
//   1. numbers and names: linux-libc-dev's uapi headers (src/tables/sources.ts)
//   2. syscalls newer than those headers: overlay.json, each entry citing
//      the Linux version that added it; also the reasons for holes
//   3. arguments and kernel entry points: prototypes.json (reviewed;
//      mostly imported from tracefs, the rest from the kernel's
//      SYSCALL_DEFINEs by hand, each entry saying where it came from)
//   4. classes: classes.json
// Anything missing or contradictory stops the generator with a message
// naming the file and the syscall. strace's tables are compiled into its
// binary (no data on disk); libseccomp's are read by a test instead
// (test/10.tables.libseccomp.test.ts), as an independent second source.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { release } from 'node:os';
import { readHeader, readMultiplexerCalls, uapiVersion, UAPI_HEADERS, type HeaderSyscall } from '../src/tables/sources.js';
import { AUDIT_ARCH } from '../src/tables/arch.js';
import { formatTable } from '../src/tables/format.js';
import { ABIS, SYSCALL_CLASSES, type Abi, type SyscallArg, type SyscallEntry, type SyscallHole, type SyscallTable } from '../src/tables/types.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIR = join(ROOT, 'syscall-tables', 'linux');
const FILES = {
  prototypes: join(DIR, 'prototypes.json'),
  classes: join(DIR, 'classes.json'),
  overlay: join(DIR, 'overlay.json'),
};

interface FunctionProto {
  args?: SyscallArg[];
  /** Same arguments as another function (e.g. clock_gettime32 -> clock_gettime). */
  same?: string;
  /** Per-ABI argument registers where they differ (clone's order, i386 register pairs). */
  abi?: Partial<Record<Abi, SyscallArg[]>>;
  /** Attach the operations of this multiplexer, read from the uapi headers. */
  multiplexer?: 'socketcall' | 'ipc';
  from: string;
}

interface Prototypes {
  functions: Record<string, FunctionProto>;
  /** Per ABI: syscall name -> kernel function (without sys_), where they differ. */
  entryPoints: Record<'x86_64' | 'i386', Record<string, string>>;
  /** Per ABI: syscall name -> why the kernel answers ENOSYS. */
  unimplemented: Record<Abi, Record<string, string>>;
}

interface OverlaySyscall { abi: Abi; nr: number; name: string; since: string; entry?: string; ref: string }
interface OverlayHole { abi: Abi; from: number; to: number; reason: string }
interface Overlay { syscalls: OverlaySyscall[]; holes: OverlayHole[] }

class GenError extends Error {}
const fail = (file: string, msg: string): never => {
  throw new GenError(`${file.replace(ROOT + '/', '')}: ${msg}`);
};

const byVersion = (a: string, b: string) => {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am! - bm! || an! - bn!;
};

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

function loadClasses(): Map<string, string> {
  const raw = readJson<Record<string, unknown>>(FILES.classes);
  const out = new Map<string, string>();
  for (const [cls, names] of Object.entries(raw)) {
    if (cls.startsWith('$')) continue;
    if (!(SYSCALL_CLASSES as readonly string[]).includes(cls)) fail(FILES.classes, `unknown class "${cls}"`);
    if (!Array.isArray(names)) fail(FILES.classes, `class "${cls}" is not a list`);
    for (const n of names as string[]) {
      if (out.has(n)) fail(FILES.classes, `"${n}" is in both "${out.get(n)}" and "${cls}"`);
      out.set(n, cls);
    }
  }
  return out;
}

/** Where each table entry's numbers and names come from, before arguments. */
function mergeSources(abi: Abi, header: HeaderSyscall[], overlay: Overlay): (HeaderSyscall & { source: string })[] {
  const byNr = new Map<number, HeaderSyscall & { source: string }>();
  for (const h of header) byNr.set(h.nr, { ...h, source: 'uapi' });
  for (const o of overlay.syscalls.filter((s) => s.abi === abi)) {
    if (!/^\d+\.\d+$/.test(o.since)) fail(FILES.overlay, `${abi} ${o.name}: "since" must be a Linux version like "6.8"`);
    const have = byNr.get(o.nr);
    if (have && have.name !== o.name) {
      fail(FILES.overlay, `${abi} ${o.nr}: overlay says ${o.name}, ${UAPI_HEADERS[abi]} says ${have.name}`);
    }
    // Once the installed headers know a syscall, the header is the source
    // and the overlay entry is dead weight: say so rather than keep both.
    if (have) fail(FILES.overlay, `${abi} ${o.name} (${o.nr}) is now in ${UAPI_HEADERS[abi]}; remove it from the overlay`);
    byNr.set(o.nr, { nr: o.nr, name: o.name, entry: o.entry ?? `sys_${o.name}`, source: `overlay:${o.since}` });
  }
  const names = new Set<string>();
  for (const e of byNr.values()) {
    if (names.has(e.name)) fail(FILES.overlay, `${abi}: ${e.name} appears under two numbers`);
    names.add(e.name);
  }
  return [...byNr.values()].sort((a, b) => a.nr - b.nr);
}

function argsOf(fn: string, abi: Abi, protos: Prototypes, seen: string[] = []): { args: SyscallArg[]; proto: FunctionProto } | undefined {
  const p = protos.functions[fn];
  if (!p) return undefined;
  if (seen.includes(fn)) fail(FILES.prototypes, `"same" loop: ${[...seen, fn].join(' -> ')}`);
  const own = p.abi?.[abi] ?? p.args;
  if (own) return { args: own, proto: p };
  if (p.same) {
    const r = argsOf(p.same, abi, protos, [...seen, fn]);
    if (!r) fail(FILES.prototypes, `${fn}: "same": "${p.same}" is not a function in the file`);
    return { args: r!.args, proto: p };
  }
  return fail(FILES.prototypes, `${fn}: neither "args" nor "same"`);
}

function buildTable(abi: Abi, protos: Prototypes, classes: Map<string, string>, overlay: Overlay,
  x86Fns: Map<string, string> | undefined, usedClasses: Set<string>, missing: string[]): SyscallTable {
  const merged = mergeSources(abi, readHeader(abi), overlay);
  const multiplexers = readMultiplexerCalls();
  const syscalls: SyscallEntry[] = [];
  for (const m of merged) {
    const unimpl = protos.unimplemented[abi]?.[m.name];
    // The kernel function: generic's header names it; x86 needs the map.
    let fn: string;
    if (abi === 'aarch64' || m.source !== 'uapi') fn = (m.entry ?? `sys_${m.name}`).replace(/^sys_/, '');
    else fn = protos.entryPoints[abi][m.name] ?? m.name;
    if (fn === 'ni_syscall' && unimpl === undefined && abi !== 'aarch64') {
      fail(FILES.prototypes, `${abi} ${m.name}: entry point ni_syscall needs an "unimplemented" reason`);
    }
    const unimplemented = unimpl ?? (fn === 'ni_syscall' ? `${UAPI_HEADERS[abi]} maps it to sys_ni_syscall` : undefined);
    let args: SyscallArg[] = [];
    let multiplexer: SyscallEntry['multiplexer'];
    if (fn !== 'ni_syscall') {
      const r = argsOf(fn, abi, protos);
      if (!r) { missing.push(`${abi} ${m.name} (function ${fn})`); continue; }
      args = r.args;
      if (r.proto.multiplexer) multiplexer = { arg: 0, calls: multiplexers[r.proto.multiplexer] };
    }
    if (args.length > 6) fail(FILES.prototypes, `${fn}: ${args.length} arguments; a syscall has at most 6 registers`);
    const cls = classes.get(m.name);
    if (!cls) fail(FILES.classes, `${abi} ${m.name} (${m.nr}) has no class`);
    usedClasses.add(m.name);
    const entry: SyscallEntry = { nr: m.nr, name: m.name, args, class: cls as SyscallEntry['class'], source: m.source, entry: `sys_${fn}` };
    if (unimplemented) entry.unimplemented = unimplemented;
    const canonical = fn === 'ni_syscall' ? undefined : x86Fns?.get(fn);
    if (canonical && canonical !== m.name) entry.variantOf = canonical;
    if (multiplexer) entry.multiplexer = multiplexer;
    syscalls.push(entry);
  }

  const maxNr = merged[merged.length - 1]!.nr;
  const taken = new Set(merged.map((s) => s.nr));
  const holes: SyscallHole[] = [];
  const ranges = overlay.holes.filter((h) => h.abi === abi);
  for (const r of ranges) {
    for (let nr = r.from; nr <= r.to; nr++) {
      if (taken.has(nr)) fail(FILES.overlay, `${abi} hole ${r.from}..${r.to}: ${nr} is a syscall now; shrink the hole`);
    }
    if (r.to > maxNr) fail(FILES.overlay, `${abi} hole ${r.from}..${r.to} reaches past the last syscall (${maxNr})`);
  }
  for (let nr = 0; nr <= maxNr; nr++) {
    if (taken.has(nr)) continue;
    const r = ranges.find((h) => nr >= h.from && nr <= h.to);
    if (!r) fail(FILES.overlay, `${abi} ${nr} is neither a syscall nor a recorded hole`);
    holes.push({ nr, reason: r!.reason });
  }
  const overlaySince = syscalls.filter((s) => s.source !== 'uapi').map((s) => s.source.slice('overlay:'.length));
  return {
    abi,
    auditArch: AUDIT_ARCH[abi].value,
    auditArchName: AUDIT_ARCH[abi].name,
    maxNr,
    generatedFrom: [
      `linux-libc-dev ${uapiVersion()}: ${UAPI_HEADERS[abi]}`,
      overlaySince.length
        ? `syscall-tables/linux/overlay.json: ${overlaySince.length} syscalls added in Linux ${[...new Set(overlaySince)].sort(byVersion).join(', ')}`
        : 'syscall-tables/linux/overlay.json: nothing newer than the headers',
      'syscall-tables/linux/prototypes.json', 'syscall-tables/linux/classes.json',
    ],
    syscalls,
    holes,
  };
}

/** Refresh prototypes.json's functions from tracefs; keeps reviewed entries tracefs lacks. */
function importTracefs(dir: string): void {
  const events = join(dir, 'events', 'syscalls');
  if (!existsSync(events)) fail(events, 'no syscall trace events here (mount tracefs: mount -t tracefs nodev DIR)');
  const protos = readJson<Prototypes & Record<string, unknown>>(FILES.prototypes);
  let updated = 0;
  for (const ev of readdirSync(events).filter((e) => e.startsWith('sys_enter_')).sort()) {
    const fn = ev.slice('sys_enter_'.length);
    const format = readFileSync(join(events, ev, 'format'), 'utf8');
    const args: SyscallArg[] = [];
    // After the common_* fields and __syscall_nr, one field per argument:
    //   field:const char * filename;  offset:24;  size:8;  signed:0;
    for (const m of format.matchAll(/^\s*field:(.+?);\s*offset:/gm)) {
      const decl = m[1]!.trim();
      const nm = /([A-Za-z_][A-Za-z0-9_]*)$/.exec(decl)?.[1];
      if (!nm || nm.startsWith('common_') || nm === '__syscall_nr') continue;
      args.push({ name: nm, type: decl.slice(0, decl.length - nm.length).trim() });
    }
    const prev = protos.functions[fn];
    protos.functions[fn] = { args, from: `tracefs ${release()}`, ...(prev?.abi ? { abi: prev.abi } : {}), ...(prev?.multiplexer ? { multiplexer: prev.multiplexer } : {}) };
    updated++;
  }
  protos.functions = Object.fromEntries(Object.entries(protos.functions).sort(([a], [b]) => a.localeCompare(b)));
  writeFileSync(FILES.prototypes, formatPrototypes(protos));
  process.stdout.write(`prototypes.json: ${updated} functions from ${events}\n`);
}

/** One function per line, so a review diff shows exactly what changed. */
function formatPrototypes(p: Record<string, unknown>): string {
  const lines: string[] = ['{'];
  const keys = Object.keys(p);
  keys.forEach((k, i) => {
    const v = p[k] as Record<string, unknown>;
    const comma = i < keys.length - 1 ? ',' : '';
    if (k === 'functions' || k === 'entryPoints' || k === 'unimplemented') {
      lines.push(`  ${JSON.stringify(k)}: {`);
      const inner = Object.keys(v);
      inner.forEach((ik, j) => {
        const iv = v[ik];
        const ic = j < inner.length - 1 ? ',' : '';
        if (k === 'functions') lines.push(`    ${JSON.stringify(ik)}: ${JSON.stringify(iv)}${ic}`);
        else {
          lines.push(`    ${JSON.stringify(ik)}: {`);
          const e = Object.entries(iv as Record<string, string>);
          e.forEach(([ek, ev], n) => lines.push(`      ${JSON.stringify(ek)}: ${JSON.stringify(ev)}${n < e.length - 1 ? ',' : ''}`));
          lines.push(`    }${ic}`);
        }
      });
      lines.push(`  }${comma}`);
    } else lines.push(`  ${JSON.stringify(k)}: ${JSON.stringify(v)}${comma}`);
  });
  lines.push('}');
  return lines.join('\n') + '\n';
}

function generate(): Map<Abi, string> {
  const protos = readJson<Prototypes>(FILES.prototypes);
  const classes = loadClasses();
  const overlay = readJson<Overlay>(FILES.overlay);
  const used = new Set<string>();
  const missing: string[] = [];
  const out = new Map<Abi, string>();
  // x86_64 first: its names are the canonical ones variantOf points at.
  const x86 = buildTable('x86_64', protos, classes, overlay, undefined, used, missing);
  const x86Fns = new Map(x86.syscalls.map((s) => [s.entry!.replace(/^sys_/, ''), s.name]));
  out.set('x86_64', formatTable(x86));
  for (const abi of ABIS.filter((a) => a !== 'x86_64')) {
    out.set(abi, formatTable(buildTable(abi, protos, classes, overlay, x86Fns, used, missing)));
  }
  if (missing.length) fail(FILES.prototypes, `no arguments for:\n  ${missing.join('\n  ')}`);
  const stale = [...classes.keys()].filter((n) => !used.has(n));
  if (stale.length) fail(FILES.classes, `names in no table: ${stale.join(', ')}`);
  return out;
}

function main(argv: string[]): number {
  const imp = argv.indexOf('--import-tracefs');
  if (imp >= 0) {
    importTracefs(argv[imp + 1] ?? '/sys/kernel/tracing');
    return 0;
  }
  const check = argv.includes('--check');
  let stale = 0;
  for (const [abi, text] of generate()) {
    const file = join(DIR, `${abi}.json`);
    const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (old === text) continue;
    if (check) {
      process.stderr.write(`${file}: out of date (run npm run gen:tables)\n`);
      stale++;
    } else {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  return stale ? 1 : 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof GenError)) throw err;
  process.stderr.write(`gen-syscall-tables: ${err.message}\n`);
  process.exitCode = 1;
}
