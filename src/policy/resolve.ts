// Rules → one decision per syscall of one ABI, with every semantic check the
// schema cannot do: known syscalls, handlers and errnos; argument indexes
// within the syscall's argument count; values that fit the argument; no
// contradictory or unreachable rule; a reason and a note on every non-host
// decision (a note only for "trace": recording is not a refusal, so none of
// the reasons applies); at most one supervisor handler per syscall.
import { LxzoneError } from '../errors.js';
import { ABIS, type Abi, type SyscallEntry, type SyscallTable } from '../tables/types.js';
import { AUDIT_ARCH } from '../tables/arch.js';
import { parseValue } from './constants.js';
import { contradiction, covers, widthOfType } from './conditions.js';
import { isNotified, notifyHandler, parseDisposition, type ParsedDisposition } from './disposition.js';
import { EXTRA_RULES_LABEL, loadProfile, profileChain, validateExtraRules, type Layer } from './load.js';
import { byName, defaultTables, type TableSource } from './tables.js';
import { RULE_OPTIONS } from './types.js';
import type {
  Condition, PolicyOptions, Profile, ResolvedProfile, ResolvedRule, ResolvedSyscall, Rule,
  SyscallRules,
} from './types.js';

export interface ResolveOptions extends PolicyOptions {
  /** Where the syscall tables come from (tests use synthetic ones). */
  tables?: TableSource;
}

/** Collected problems; each names file, entry, rule and reason. */
class Problems {
  readonly list: string[] = [];
  readonly wheres: string[] = [];
  add(where: string, message: string): void {
    if (!this.list.includes(message)) {
      this.list.push(message);
      this.wheres.push(where);
    }
  }
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const msg = this.list.length === 1 ? this.list[0]! : `${this.list.length} problems in the rules:\n  ${this.list.join('\n  ')}`;
    throw new LxzoneError(msg, { where: this.wheres[0], code: 'EINVAL' });
  }
}

function entryLabel(file: string, i: number, e: SyscallRules): string {
  return `${file}: syscalls[${i}] (${e.names.join(', ')})`;
}

function tablesFor(source: TableSource): Map<Abi, SyscallTable> {
  const out = new Map<Abi, SyscallTable>();
  for (const abi of ABIS) {
    try {
      out.set(abi, source(abi));
    } catch {
      // An ABI without a generated table cannot be targeted; names are checked against the others.
    }
  }
  return out;
}

interface Picked {
  entry: SyscallRules;
  index: number;
  file: string;
}

/** The winning entry per syscall name for one ABI, over layers (later layers replace earlier ones). */
function pickEntries(layers: Layer[], extra: SyscallRules[] | undefined, abi: Abi,
  tables: Map<Abi, SyscallTable>, problems: Problems): Map<string, Picked> {
  const table = tables.get(abi)!;
  const names = byName(table);
  const all: { file: string; entries: SyscallRules[] }[] = [
    ...layers.map((l) => ({ file: l.file, entries: l.profile.syscalls })),
    ...(extra ? [{ file: EXTRA_RULES_LABEL, entries: extra }] : []),
  ];
  const result = new Map<string, Picked>();
  for (const { file, entries } of all) {
    const generic = new Map<string, Picked>();
    const specific = new Map<string, Picked>();
    entries.forEach((entry, index) => {
      const label = entryLabel(file, index, entry);
      for (const name of entry.names) {
        const known = [...tables.values()].some((t) => byName(t).has(name));
        if (!known) {
          problems.add(`${file}#syscalls[${index}]`, `${label}: unknown syscall "${name}" (in no syscall table: ${[...tables.keys()].join(', ')})`);
          continue;
        }
        if (entry.abis && !entry.abis.includes(abi)) continue;
        if (!names.has(name)) {
          if (entry.abis) problems.add(`${file}#syscalls[${index}]`, `${label}: syscall "${name}" does not exist on ${abi}`);
          continue;
        }
        const slot = entry.abis ? specific : generic;
        const prev = slot.get(name);
        if (prev) {
          problems.add(`${file}#syscalls[${index}]`, `${label}: "${name}" is already decided by syscalls[${prev.index}] for ${abi}`);
          continue;
        }
        slot.set(name, { entry, index, file });
      }
    });
    for (const [name, p] of generic) result.set(name, p);
    for (const [name, p] of specific) result.set(name, p);
  }
  return result;
}

function resolveCondition(raw: Rule['when'][number], sc: SyscallEntry, abi: Abi, label: string): Condition | string {
  if (raw.arg >= sc.args.length) {
    return `${label}: arg ${raw.arg} is past ${sc.name}'s ${sc.args.length} argument(s) on ${abi}`;
  }
  const width = raw.width ?? widthOfType(sc.args[raw.arg]?.type);
  const fit = (what: string, v: bigint): bigint | string => {
    if (width === 64 || v <= 0xffffffffn) return v;
    // A negative 32-bit value written as e.g. -100: keep its low 32 bits.
    if (v >> 31n === (1n << 33n) - 1n) return v & 0xffffffffn;
    return `${label}: ${what} 0x${v.toString(16)} does not fit the 32-bit arg ${raw.arg} (${sc.args[raw.arg]?.name})`;
  };
  const pv = parseValue(raw.value);
  if ('error' in pv) return `${label}: arg ${raw.arg} value: ${pv.error}`;
  const value = fit('value', pv.value);
  if (typeof value === 'string') return value;
  let mask = width === 32 ? 0xffffffffn : (1n << 64n) - 1n;
  if (raw.op === 'masked_eq') {
    if (raw.mask === undefined) return `${label}: masked_eq needs a mask`;
    const pm = parseValue(raw.mask);
    if ('error' in pm) return `${label}: arg ${raw.arg} mask: ${pm.error}`;
    const m = fit('mask', pm.value);
    if (typeof m === 'string') return m;
    mask = m;
  }
  return { arg: raw.arg, op: raw.op, value, mask, width, comment: raw.comment };
}

/**
 * A disposition parsed for the resolved profile. One that does not parse has
 * already been reported (checkDisposition, checkDefault) and the profile is
 * refused as a whole; "host" stands in until then.
 */
function actionOf(disposition: string): ParsedDisposition {
  const d = parseDisposition(disposition);
  return 'error' in d ? { kind: 'host' } : d;
}

function resolveSyscall(sc: SyscallEntry, picked: Picked | undefined, def: { file: string; profile: Profile },
  abi: Abi, opts: PolicyOptions, problems: Problems): ResolvedSyscall {
  if (!picked) {
    const d = def.profile.default;
    return {
      nr: sc.nr, name: sc.name, disposition: d.disposition, action: actionOf(d.disposition), conditional: false, rules: [],
      reason: d.reason, note: d.note, where: `${def.file}#default`,
    };
  }
  const { entry, index, file } = picked;
  const where = `${file}#syscalls[${index}]`;
  const label = entryLabel(file, index, entry);
  const checkDisposition = (disp: string, reason: string | undefined, note: string | undefined, what: string): void => {
    const d = parseDisposition(disp);
    if ('error' in d) problems.add(where, `${what}: ${d.error}`);
    else if (d.kind === 'trace' && !note) problems.add(where, `${what}: "trace" needs a note`);
    else if (d.kind !== 'host' && d.kind !== 'trace' && (!reason || !note)) problems.add(where, `${what}: "${disp}" needs a reason and a note`);
  };
  checkDisposition(entry.disposition, entry.reason, entry.note, label);

  const rules: ResolvedRule[] = [];
  (entry.rules ?? []).forEach((rule, j) => {
    const rlabel = `${label} rule ${j}`;
    const rwhere = `${where}.rules[${j}]`;
    const on = Object.entries(rule.onlyIf ?? {}).every(([k, v]) => Boolean(opts[k as keyof PolicyOptions]) === v);
    if (!on) return;
    // A refusal inherits the entry's reason and note; a rule that lets the host run the call needs none.
    const inherit = rule.disposition !== 'host';
    const reason = rule.reason ?? (inherit ? entry.reason : undefined);
    const note = rule.note ?? (inherit ? entry.note : undefined);
    checkDisposition(rule.disposition, reason, note, rlabel);
    const when: Condition[] = [];
    for (const c of rule.when) {
      const rc = resolveCondition(c, sc, abi, rlabel);
      if (typeof rc === 'string') problems.add(rwhere, rc);
      else when.push(rc);
    }
    if (when.length !== rule.when.length) return;
    const never = contradiction(when);
    if (never) { problems.add(rwhere, `${rlabel}: contradictory, never matches: ${never}`); return; }
    const shadow = rules.findIndex((r) => covers(r.when, when));
    if (shadow >= 0) {
      problems.add(rwhere, `${rlabel}: unreachable, ${rules[shadow]!.where.replace(/^.*#/, '')} already matches every call it would`);
      return;
    }
    rules.push({ when, disposition: rule.disposition, action: actionOf(rule.disposition), reason, note, comment: rule.comment, where: rwhere });
  });

  // The dispatch table holds one handler per syscall number.
  const handlers = new Set<string>();
  for (const action of [actionOf(entry.disposition), ...rules.map((r) => r.action)]) {
    const h = notifyHandler(action);
    if (h) handlers.add(h);
  }
  if (handlers.size > 1) problems.add(where, `${label}: rules of ${sc.name} name ${handlers.size} supervisor handlers (${[...handlers].join(', ')}); the dispatch table holds one per syscall`);

  const firstNonHost = rules.find((r) => r.disposition !== 'host');
  return {
    nr: sc.nr, name: sc.name, disposition: entry.disposition, action: actionOf(entry.disposition), conditional: rules.length > 0, rules,
    reason: entry.reason ?? firstNonHost?.reason, note: entry.note ?? firstNonHost?.note, where,
  };
}

function checkDefault(layers: Layer[], problems: Problems): Layer {
  const top = layers[layers.length - 1]!;
  const d = top.profile.default;
  const p = parseDisposition(d.disposition);
  if ('error' in p) problems.add(`${top.file}#default`, `${top.file}: default: ${p.error}`);
  else if (p.kind !== 'host' && !(p.kind === 'trace' ? d.note : d.reason && d.note)) problems.add(`${top.file}#default`, `${top.file}: default: "${d.disposition}" needs a reason and a note`);
  return top;
}

function resolveWith(layers: Layer[], abi: Abi, opts: ResolveOptions, tables: Map<Abi, SyscallTable>, problems: Problems): ResolvedProfile {
  const table = tables.get(abi);
  if (!table) throw new LxzoneError(`no syscall table for ${abi} (syscall-tables/linux/${abi}.json)`, { where: abi, code: 'ENOENT' });
  const top = checkDefault(layers, problems);
  const picked = pickEntries(layers, opts.extraRules, abi, tables, problems);
  const syscalls = [...table.syscalls].sort((a, b) => a.nr - b.nr)
    .map((sc) => resolveSyscall(sc, picked.get(sc.name), top, abi, opts, problems));
  const unsupported = [...layers].reverse().find((l) => l.profile.unsupported)?.profile.unsupported ?? 'enosys';
  const notify = [...layers].reverse().find((l) => l.profile.notify !== undefined)?.profile.notify ?? true;
  if (!notify) checkNothingNotified(syscalls, top, problems);
  return { profile: top.profile.profile, abi, auditArch: table.auditArch ?? AUDIT_ARCH[abi].value, unsupported, notify, syscalls };
}

/** A profile whose filter no supervisor serves (notify: false) must decide every call in the filter. */
function checkNothingNotified(syscalls: ResolvedSyscall[], top: Layer, problems: Problems): void {
  for (const s of syscalls) {
    for (const d of [{ action: s.action, disposition: s.disposition, where: s.where }, ...s.rules]) {
      if (isNotified(d.action)) problems.add(d.where, `${d.where}: ${s.name}: "${d.disposition}" needs a supervisor, and ${top.profile.profile}'s filter has none (notify: false)`);
    }
  }
}

function layersOf(profile: string | Profile): Layer[] {
  if (typeof profile === 'string') {
    const { profile: p, file } = loadProfile(profile);
    return profileChain(p, file);
  }
  return profileChain(profile, `<profile ${profile.profile}>`);
}

/**
 * Every syscall of `abi` with its decision under a profile (what `lxzone
 * syscalls` prints). Throws an LxzoneError naming file, rule and reason when
 * the rules are invalid.
 */
export function resolveProfile(profile: string | Profile, abi: Abi, opts: ResolveOptions = {}): ResolvedProfile {
  if (opts.extraRules !== undefined) opts = { ...opts, extraRules: validateExtraRules(opts.extraRules) };
  const problems = new Problems();
  const tables = tablesFor(opts.tables ?? defaultTables);
  const resolved = resolveWith(layersOf(profile), abi, opts, tables, problems);
  problems.throwIfAny();
  return resolved;
}

/**
 * Checks a profile against every ABI table and both values of every compile
 * option; returns the problems (empty when the rules are valid).
 */
export function checkProfile(profile: string | Profile, opts: ResolveOptions = {}): string[] {
  const problems = new Problems();
  const tables = tablesFor(opts.tables ?? defaultTables);
  let layers: Layer[];
  try {
    if (opts.extraRules !== undefined) opts = { ...opts, extraRules: validateExtraRules(opts.extraRules) };
    layers = layersOf(profile);
  } catch (err) {
    if (err instanceof LxzoneError) return [err.message];
    throw err;
  }
  for (const abi of tables.keys()) {
    // Every combination of the compile options a rule can depend on.
    for (let bits = 0; bits < 1 << RULE_OPTIONS.length; bits++) {
      const options = Object.fromEntries(RULE_OPTIONS.map((o, i) => [o, Boolean(bits & (1 << i))]));
      resolveWith(layers, abi, { ...opts, ...options }, tables, problems);
    }
  }
  return problems.list;
}
