// Import of a Docker / OCI runtime-spec seccomp profile (the JSON that
// Docker, containerd, Podman and runc read) into an lxzone rules file. What
// the rule language cannot express is reported, never silently dropped.
//
// Semantics carried over (libseccomp's): entries for one syscall are OR'd in
// order, the args of one entry are AND'd, SCMP_CMP_MASKED_EQ takes the mask
// in `value` and the datum in `valueTwo`. `includes`/`excludes` are decided
// at import time for the capabilities the zone will have (Docker's default
// set unless told otherwise), for our ABIs, and for the host kernel version.
import { release } from 'node:os';
import { errnoName } from '../errors.js';
import { LxzoneError } from '../errors.js';
import { ABIS, type Abi, type SyscallTable } from '../tables/types.js';
import { byName, defaultTables, type TableSource } from './tables.js';
import type { Op, Profile, ProfileDefault, Rule, RuleCondition, SyscallRules } from './types.js';

/** Capabilities of a Docker container by default (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** libseccomp/Docker architecture names → our ABIs (others have no table here). */
const ARCH_NAMES: Record<string, Abi | null> = {
  amd64: 'x86_64', x86_64: 'x86_64', SCMP_ARCH_X86_64: 'x86_64',
  x86: 'i386', i386: 'i386', '386': 'i386', SCMP_ARCH_X86: 'i386',
  arm64: 'aarch64', aarch64: 'aarch64', SCMP_ARCH_AARCH64: 'aarch64',
  x32: null, SCMP_ARCH_X32: null, arm: null, SCMP_ARCH_ARM: null,
  mips: null, mipsel: null, mips64: null, mips64n32: null, mipsel64: null, mipsel64n32: null,
  ppc: null, ppc64: null, ppc64le: null, s390: null, s390x: null, riscv64: null, loong64: null,
  SCMP_ARCH_MIPS: null, SCMP_ARCH_MIPS64: null, SCMP_ARCH_MIPS64N32: null, SCMP_ARCH_MIPSEL: null,
  SCMP_ARCH_MIPSEL64: null, SCMP_ARCH_MIPSEL64N32: null, SCMP_ARCH_PPC: null, SCMP_ARCH_PPC64: null,
  SCMP_ARCH_PPC64LE: null, SCMP_ARCH_S390: null, SCMP_ARCH_S390X: null, SCMP_ARCH_RISCV64: null, SCMP_ARCH_LOONGARCH64: null,
};

const OPS: Record<string, Op> = {
  SCMP_CMP_NE: 'ne', SCMP_CMP_LT: 'lt', SCMP_CMP_LE: 'le', SCMP_CMP_EQ: 'eq',
  SCMP_CMP_GE: 'ge', SCMP_CMP_GT: 'gt', SCMP_CMP_MASKED_EQ: 'masked_eq',
};

interface DockerArg { index: number; value: number; valueTwo?: number; op: string; [k: string]: unknown }
interface DockerFilter { caps?: string[]; arches?: string[]; minKernel?: string; [k: string]: unknown }
interface DockerSyscall {
  names?: string[]; name?: string; action: string; errnoRet?: number; args?: DockerArg[] | null;
  comment?: string; includes?: DockerFilter; excludes?: DockerFilter; [k: string]: unknown;
}
interface DockerProfile {
  defaultAction: string; defaultErrnoRet?: number; architectures?: string[];
  archMap?: { architecture: string; subArchitectures: string[] | null }[];
  syscalls?: DockerSyscall[] | null; [k: string]: unknown;
}

export interface ImportOptions {
  /** Name of the resulting profile. */
  name: string;
  /** The file, for messages. */
  file: string;
  /** Capabilities the zone will have (includes.caps / excludes.caps). Default: DOCKER_DEFAULT_CAPS. */
  caps?: string[];
  /** Host kernel version for includes.minKernel (default: os.release()). */
  kernel?: string;
  tables?: TableSource;
}

export interface ImportResult {
  profile: Profile;
  /** What could not be carried over as is, one line each, naming the entry. */
  report: string[];
}

function kernelAtLeast(have: string, want: string): boolean {
  const a = have.split(/[.-]/).map((x) => parseInt(x, 10));
  const b = want.split(/[.-]/).map((x) => parseInt(x, 10));
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = Number.isNaN(a[i]) ? 0 : (a[i] ?? 0);
    const y = Number.isNaN(b[i]) ? 0 : (b[i] ?? 0);
    if (x !== y) return x > y;
  }
  return true;
}

const KNOWN_TOP = new Set(['defaultAction', 'defaultErrnoRet', 'architectures', 'archMap', 'syscalls']);
const KNOWN_ENTRY = new Set(['names', 'name', 'action', 'errnoRet', 'args', 'comment', 'includes', 'excludes']);
const KNOWN_FILTER = new Set(['caps', 'arches', 'minKernel']);

/** Converts a parsed Docker/OCI profile. Throws an LxzoneError when the document is not one. */
export function importDockerProfile(doc: unknown, opts: ImportOptions): ImportResult {
  const { file } = opts;
  const report: string[] = [];
  if (typeof doc !== 'object' || doc === null || typeof (doc as DockerProfile).defaultAction !== 'string') {
    throw new LxzoneError(`${file}: not a Docker/OCI seccomp profile (no "defaultAction")`, { where: file, code: 'EINVAL' });
  }
  const d = doc as DockerProfile;
  const caps = new Set(opts.caps ?? DOCKER_DEFAULT_CAPS);
  const kernel = opts.kernel ?? release();
  const tables = new Map<Abi, SyscallTable>();
  for (const abi of ABIS) {
    try { tables.set(abi, (opts.tables ?? defaultTables)(abi)); } catch { /* no table: not importable for it */ }
  }

  for (const key of Object.keys(d)) {
    if (!KNOWN_TOP.has(key)) report.push(`${file}: "${key}" is not supported and was not imported (${JSON.stringify(d[key])})`);
  }
  if (d.architectures?.length) {
    const listed = new Set<Abi>();
    for (const a of [...d.architectures, ...(d.archMap ?? []).filter((m) => d.architectures!.includes(m.architecture)).flatMap((m) => m.subArchitectures ?? [])]) {
      const abi = ARCH_NAMES[a];
      if (abi) listed.add(abi);
    }
    const missing = ABIS.filter((a) => !listed.has(a));
    if (missing.length) report.push(`${file}: architectures does not list ${missing.join(', ')}; lxzone kills any arch a filter is not compiled for, and compiles for the host's ABIs`);
  }

  const disposition = (action: string, errnoRet: number | undefined, where: string): string => {
    switch (action) {
      case 'SCMP_ACT_ALLOW': return 'host';
      case 'SCMP_ACT_ERRNO': return `errno:${errnoName(errnoRet ?? d.defaultErrnoRet ?? 1)}`;
      case 'SCMP_ACT_KILL_PROCESS': return 'kill';
      case 'SCMP_ACT_KILL':
      case 'SCMP_ACT_KILL_THREAD':
        report.push(`${where}: ${action} kills only the thread; imported as kill (the whole process)`);
        return 'kill';
      case 'SCMP_ACT_LOG':
        report.push(`${where}: SCMP_ACT_LOG (allow and log to the audit log) imported as host; use the trace profile to record calls`);
        return 'host';
      case 'SCMP_ACT_TRAP':
        report.push(`${where}: SCMP_ACT_TRAP (SIGSYS to the caller) is not supported; imported as kill`);
        return 'kill';
      case 'SCMP_ACT_TRACE':
        report.push(`${where}: SCMP_ACT_TRACE needs a ptrace tracer; imported as errno:ENOSYS (what the kernel answers without one)`);
        return 'errno:ENOSYS';
      case 'SCMP_ACT_NOTIFY':
        report.push(`${where}: SCMP_ACT_NOTIFY goes to an external agent; imported as trace (lxzone's supervisor records and executes it)`);
        return 'trace';
      default:
        throw new LxzoneError(`${where}: unknown action "${action}"`, { where, code: 'EINVAL' });
    }
  };
  const describe = (disp: string): Pick<Rule, 'reason' | 'note'> =>
    disp === 'host' ? {} : disp === 'trace' ? { note: `imported from ${file}` } : { reason: 'security', note: `imported from ${file}` };

  const def: ProfileDefault = { disposition: disposition(d.defaultAction, d.defaultErrnoRet, `${file}: defaultAction`) };
  Object.assign(def, describe(def.disposition));

  // Per ABI, per syscall: the OR'd list of (conditions, disposition) in file order.
  type Alt = { when: RuleCondition[]; disposition: string; comment?: string; where: string };
  const perAbi = new Map<Abi, Map<string, Alt[]>>();
  for (const abi of tables.keys()) perAbi.set(abi, new Map());
  const unknownNames = new Set<string>();

  (d.syscalls ?? []).forEach((entry, i) => {
    const names = entry.names ?? (entry.name ? [entry.name] : []);
    const where = `${file}: syscalls[${i}] (${names.slice(0, 4).join(', ')}${names.length > 4 ? ', …' : ''})`;
    for (const key of Object.keys(entry)) {
      if (!KNOWN_ENTRY.has(key)) report.push(`${where}: "${key}" is not supported and was not imported`);
    }
    for (const [kind, f] of [['includes', entry.includes], ['excludes', entry.excludes]] as const) {
      for (const key of Object.keys(f ?? {})) {
        if (!KNOWN_FILTER.has(key)) report.push(`${where}: ${kind}.${key} is not supported; the entry was imported as if it were absent`);
      }
    }
    // Capabilities and kernel version decide now, for the zone we will run.
    const inc = entry.includes ?? {};
    const exc = entry.excludes ?? {};
    if (inc.caps?.length && !inc.caps.some((c) => caps.has(c))) return;
    if (exc.caps?.length && exc.caps.some((c) => caps.has(c))) return;
    if (inc.minKernel && !kernelAtLeast(kernel, inc.minKernel)) return;
    let abis: Abi[] = [...tables.keys()];
    if (inc.arches?.length) abis = abis.filter((a) => inc.arches!.some((n) => ARCH_NAMES[n] === a));
    if (exc.arches?.length) abis = abis.filter((a) => !exc.arches!.some((n) => ARCH_NAMES[n] === a));
    for (const n of [...(inc.arches ?? []), ...(exc.arches ?? [])]) {
      if (!(n in ARCH_NAMES)) report.push(`${where}: unknown architecture "${n}"`);
    }
    if (abis.length === 0) return;

    const disp = disposition(entry.action, entry.errnoRet, where);
    const when: RuleCondition[] = [];
    for (const [j, a] of (entry.args ?? []).entries()) {
      const op = OPS[a.op];
      if (!op) throw new LxzoneError(`${where}: args[${j}]: unknown operator "${a.op}"`, { where, code: 'EINVAL' });
      for (const key of Object.keys(a)) {
        if (!['index', 'value', 'valueTwo', 'op'].includes(key)) report.push(`${where}: args[${j}].${key} is not supported and was not imported`);
      }
      if (op === 'masked_eq') {
        when.push({ arg: a.index, op, mask: a.value, value: a.valueTwo ?? 0 });
      } else {
        if (a.valueTwo) report.push(`${where}: args[${j}].valueTwo is only meaningful for SCMP_CMP_MASKED_EQ; ignored`);
        when.push({ arg: a.index, op, value: a.value });
      }
    }
    for (const abi of abis) {
      const names0 = byName(tables.get(abi)!);
      for (const name of names) {
        if (![...tables.values()].some((t) => byName(t).has(name))) { unknownNames.add(name); continue; }
        if (!names0.has(name)) continue;
        const m = perAbi.get(abi)!;
        m.set(name, [...(m.get(name) ?? []), { when, disposition: disp, comment: entry.comment, where }]);
      }
    }
  });
  if (unknownNames.size) report.push(`${file}: syscalls unknown to lxzone's tables were skipped: ${[...unknownNames].sort().join(', ')}`);

  // One lxzone entry per syscall and ABI: conditional alternatives become
  // rules (in order), the first unconditional one the syscall's disposition.
  const entryFor = (abi: Abi, name: string, alts: Alt[]): SyscallRules => {
    const uncond = alts.filter((a) => a.when.length === 0);
    if (uncond.length > 1 && new Set(uncond.map((a) => a.disposition)).size > 1) {
      report.push(`${uncond[1]!.where}: ${name} on ${abi} already has an unconditional action (${uncond[0]!.disposition}); ${uncond[1]!.disposition} ignored`);
    }
    const fallback = uncond[0]?.disposition ?? def.disposition;
    const rules: Rule[] = alts.filter((a) => a.when.length > 0 && a.disposition !== fallback)
      .map((a) => ({ when: a.when, disposition: a.disposition, ...describe(a.disposition), ...(a.comment ? { comment: a.comment } : {}) }));
    if (uncond.length && alts.some((a) => a.when.length > 0 && a.disposition !== fallback)) {
      report.push(`${uncond[0]!.where}: ${name} on ${abi} has conditional entries and an unconditional one; the conditional ones are checked first`);
    }
    const comment = uncond[0]?.comment;
    return { names: [name], disposition: fallback, ...describe(fallback), ...(comment ? { comment } : {}), ...(rules.length ? { rules } : {}) };
  };

  // Merge: a syscall decided identically on every ABI that has it becomes one
  // generic entry; otherwise one entry per ABI. Then equal entries share one.
  const names = new Set<string>();
  for (const m of perAbi.values()) for (const n of m.keys()) names.add(n);
  const entries: SyscallRules[] = [];
  for (const name of [...names].sort()) {
    const per = [...perAbi.entries()].filter(([abi]) => byName(tables.get(abi)!).has(name))
      .map(([abi, m]) => ({ abi, e: m.has(name) ? entryFor(abi, name, m.get(name)!) : undefined }));
    const keyOf = (e: SyscallRules | undefined): string => JSON.stringify(e ?? null);
    if (per.every((p) => keyOf(p.e) === keyOf(per[0]!.e))) {
      if (per[0]!.e) entries.push(per[0]!.e);
    } else {
      for (const p of per) {
        // An ABI this syscall was not listed for gets the profile default explicitly, so the generic case cannot leak.
        entries.push({ ...(p.e ?? { names: [name], disposition: def.disposition, ...describe(def.disposition) }), abis: [p.abi] });
      }
    }
  }
  const grouped = new Map<string, SyscallRules>();
  for (const e of entries) {
    const { names: n, ...rest } = e;
    const key = JSON.stringify(rest);
    const g = grouped.get(key);
    if (g) g.names.push(...n);
    else grouped.set(key, { names: [...n], ...rest });
  }
  const profile: Profile = {
    $schema: './schema.json',
    profile: opts.name,
    comment: `Imported from ${file} by lxzone policy import-docker (capabilities: ${[...caps].join(', ') || 'none'}; kernel ${kernel}).`,
    default: def,
    syscalls: [...grouped.values()],
  };
  return { profile, report };
}
