// Conformance results, as the conformance runner writes them:
//   {"version":1, "syscalls": {"<abi>": {"<name>": {"exercised": true, "passed": true}}}}
// Default location .lxzone/conformance.json in the package root. Absent file
// (at the default path) = no results yet: the report leaves those columns empty.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lazySchema } from '../lazy-schema.js';
import { LxzoneError } from '../errors.js';
import { ABIS, type Abi } from '../tables/types.js';

export interface SyscallResult {
  exercised: boolean;
  passed: boolean;
}

export interface ConformanceResults {
  version: 1;
  syscalls: Partial<Record<Abi, Record<string, SyscallResult>>>;
}

export const DEFAULT_RESULTS = join(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'), '.lxzone', 'conformance.json');

const schema = {
  type: 'object',
  required: ['version', 'syscalls'],
  properties: {
    version: { const: 1 },
    syscalls: {
      type: 'object',
      propertyNames: { enum: [...ABIS] },
      additionalProperties: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['exercised', 'passed'],
          properties: { exercised: { type: 'boolean' }, passed: { type: 'boolean' } },
        },
      },
    },
  },
} as const;

const check = lazySchema(schema);

export function parseResults(data: unknown, where: string): ConformanceResults {
  if (!check(data)) {
    const first = check.errors!.slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new LxzoneError(`${where}: not a conformance result file: ${first}`, { where, code: 'EINVAL' });
  }
  return data as ConformanceResults;
}

/**
 * Reads the results. With an explicit path the file must exist; at the
 * default path a missing file means "no results" (undefined).
 */
export function readResults(path?: string): { results?: ConformanceResults; path?: string } {
  const file = path ?? DEFAULT_RESULTS;
  if (!existsSync(file)) {
    if (path === undefined) return {};
    throw new LxzoneError(`${file}: no such conformance result file`, { where: file, code: 'ENOENT' });
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LxzoneError(`${file}: cannot read conformance results: ${(err as Error).message}`, { where: file, cause: err });
  }
  return { results: parseResults(data, file), path: file };
}
