// Reading rules files: JSON syntax, then the schema (syscall-tables/rules/
// schema.json, ajv), then `extends` chains. Semantic checks against the
// syscall tables are in resolve.ts.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../lazy-schema.js';
import { LxzoneError } from '../errors.js';
import { rulesDir } from './paths.js';
import type { Profile, SyscallRules } from './types.js';

/** The profiles that ship with lxzone (syscall-tables/rules/<name>.json). */
export const BUILTIN_PROFILES = ['default', 'strict', 'permissive', 'trace'] as const;

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(resolve(rulesDir(), 'schema.json'), 'utf8')) as object;
  const ajv = newAjv({ allErrors: true, strict: false });
  validator = ajv.compile(schema);
  return validator;
}

function describeSchemaError(e: ErrorObject, doc: unknown): string {
  const path = e.instancePath || '(top level)';
  let what = path;
  // Name the syscall entry, not just its index: "/syscalls/12/rules/0" -> "syscalls[12] (ioctl) …".
  const m = /^\/syscalls\/(\d+)/.exec(e.instancePath);
  if (m) {
    const entry = (doc as Profile).syscalls?.[Number(m[1])];
    const names = Array.isArray(entry?.names) ? ` (${entry.names.join(', ')})` : '';
    what = `syscalls[${m[1]}]${names}${e.instancePath.slice(m[0].length).replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
  }
  const extra = e.keyword === 'additionalProperties'
    ? ` "${(e.params as { additionalProperty: string }).additionalProperty}"`
    : e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : '';
  return `${what}: ${e.message ?? e.keyword}${extra}`;
}

/** Validates a parsed rules document against the schema; `file` names it in messages. */
export function validateProfileDoc(doc: unknown, file: string): Profile {
  const validate = schemaValidator();
  if (!validate(doc)) {
    const errors = (validate.errors ?? [])
      // oneOf/if-then noise: keep the messages that name a concrete field.
      .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if')
      .map((e) => describeSchemaError(e, doc));
    const unique = [...new Set(errors)];
    throw new LxzoneError(unique.map((u) => `${file}: ${u}`).join('\n'), { where: file, code: 'EINVAL' });
  }
  return doc as Profile;
}

/** Where a zone's extra rules are named in messages. */
export const EXTRA_RULES_LABEL = 'zone rules';

/**
 * A zone's own rules (zone config `extraRules`, compile input `extraRules`):
 * the same entries as a rules file's `syscalls`, checked by the same schema.
 */
export function validateExtraRules(rules: unknown, label: string = EXTRA_RULES_LABEL): SyscallRules[] {
  if (!Array.isArray(rules)) throw new LxzoneError(`${label}: must be an array of syscall entries`, { where: label, code: 'EINVAL' });
  return validateProfileDoc({ profile: 'zone', default: { disposition: 'host' }, syscalls: rules }, label).syscalls;
}

export function readProfileFile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LxzoneError(`${file}: cannot read rules file: ${(err as Error).message}`, { where: file, cause: err, code: 'ENOENT' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LxzoneError(`${file}: not valid JSON: ${(err as Error).message}`, { where: file, cause: err, code: 'EINVAL' });
  }
  return validateProfileDoc(doc, file);
}

export function profilePath(name: string): string {
  return resolve(rulesDir(), `${name}.json`);
}

const byName = new Map<string, Profile>();

/** A profile by name (a shipped one) or by path (anything with a '/' or ending in .json). */
export function loadProfile(nameOrPath: string): { profile: Profile; file: string } {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const file = isPath ? resolve(nameOrPath) : profilePath(nameOrPath);
  if (!isPath && !existsSync(file)) {
    throw new LxzoneError(`unknown profile "${nameOrPath}" (profiles: ${BUILTIN_PROFILES.join(', ')}, or a path to a rules file)`, { where: nameOrPath, code: 'ENOENT' });
  }
  const hit = byName.get(file);
  if (hit) return { profile: hit, file };
  const profile = readProfileFile(file);
  byName.set(file, profile);
  return { profile, file };
}

export interface Layer {
  file: string;
  profile: Profile;
}

/** The chain base-first: [extends' base …, profile]. */
export function profileChain(start: Profile, file: string): Layer[] {
  const chain: Layer[] = [{ file, profile: start }];
  const seen = new Set([start.profile]);
  let cur = start;
  while (cur.extends !== undefined) {
    if (seen.has(cur.extends)) throw new LxzoneError(`${file}: profile "${cur.extends}" extends itself (cycle)`, { where: `${file}#extends` });
    seen.add(cur.extends);
    const base = loadProfile(cur.extends);
    chain.unshift({ file: base.file, profile: base.profile });
    cur = base.profile;
  }
  return chain;
}
