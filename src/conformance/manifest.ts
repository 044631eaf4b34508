// fixtures/conformance/manifest.json: per probe case, what must hold in a
// zone. "same" = identical to the native run, line by line, except where the
// profile refuses a syscall (then the profile's errno is expected: derived
// from resolveProfile, never written here). An object states zone-specific
// expectations for some lines; every field it does not mention must still
// equal the native run. Zone-only cases (they would change host state) never
// run natively, so each of their lines needs an expectation.
// fixtures/conformance/known-failures.json: id -> reason.
import { readFileSync } from 'node:fs';
import { lazySchema } from '../lazy-schema.js';
import { LxzoneError } from '../errors.js';
import { ABIS, type Abi } from '../tables/types.js';
import { KNOWN_FAILURES_FILE, MANIFEST_FILE } from './paths.js';

/**
 * An expected value: a literal (strings may use ${kernelVersion} and
 * ${hostname}, the zone's settings), or one comparison.
 */
export type ValueSpec =
  | string | number | boolean | null
  | { lte: number } | { gte: number } | { ne: string | number | boolean | null }
  | { re: string } | { oneOf: (string | number | boolean | null)[] } | { any: true };

export interface LineCheck {
  /** The line's syscall name (as the probe prints it). */
  syscall: string;
  /** 1-based occurrence among the case's lines with that syscall; all of them when absent. */
  nth?: number;
  ret?: ValueSpec;
  errno?: ValueSpec;
  data?: Record<string, ValueSpec>;
  /** Only on these ABIs (names such as statfs64 exist on some ABIs only). */
  abis?: Abi[];
  why?: string;
}

export interface CaseSpec {
  why?: string;
  zone?: LineCheck[];
  /** Fields not compared: "<syscall>.<field>" or "*.<field>", field = ret | errno | data.<key>. */
  ignore?: string[];
  zoneOnly?: boolean;
  skip?: string;
  abis?: Abi[];
  timeoutMs?: number;
}

export interface ZoneSettings {
  network?: 'none' | 'loopback' | 'zone';
}

export interface ProbeSpec {
  why?: string;
  zone?: ZoneSettings;
  cases: Record<string, 'same' | CaseSpec>;
}

export interface ProgramSpec {
  /** Shell script under fixtures/programs/. */
  script: string;
  why?: string;
  /** Commands the script needs on the host (names looked up in PATH, or absolute paths). */
  requires: string[];
  zone?: ZoneSettings;
  timeoutMs?: number;
  skip?: string;
}

export interface Manifest {
  version: 1;
  /** The zone settings every case runs with; expectations may refer to them. */
  zone: { hostname: string; kernelVersion: string };
  timeoutMs: number;
  probes: Record<string, ProbeSpec>;
  programs: Record<string, ProgramSpec>;
}

const valueSpec = {
  oneOf: [
    { type: ['string', 'number', 'boolean', 'null'] },
    { type: 'object', required: ['lte'], additionalProperties: false, properties: { lte: { type: 'number' } } },
    { type: 'object', required: ['gte'], additionalProperties: false, properties: { gte: { type: 'number' } } },
    { type: 'object', required: ['ne'], additionalProperties: false, properties: { ne: { type: ['string', 'number', 'boolean', 'null'] } } },
    { type: 'object', required: ['re'], additionalProperties: false, properties: { re: { type: 'string' } } },
    { type: 'object', required: ['oneOf'], additionalProperties: false, properties: { oneOf: { type: 'array', items: { type: ['string', 'number', 'boolean', 'null'] } } } },
    { type: 'object', required: ['any'], additionalProperties: false, properties: { any: { const: true } } },
  ],
};

const zoneSettings = {
  type: 'object',
  additionalProperties: false,
  properties: { network: { enum: ['none', 'loopback', 'zone'] } },
};

const schema = {
  type: 'object',
  required: ['version', 'zone', 'timeoutMs', 'probes', 'programs'],
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    version: { const: 1 },
    zone: {
      type: 'object', required: ['hostname', 'kernelVersion'], additionalProperties: false,
      properties: { hostname: { type: 'string', minLength: 1 }, kernelVersion: { type: 'string', minLength: 1 } },
    },
    timeoutMs: { type: 'integer', minimum: 1000 },
    probes: {
      type: 'object',
      additionalProperties: {
        type: 'object', required: ['cases'], additionalProperties: false,
        properties: {
          why: { type: 'string' },
          zone: zoneSettings,
          cases: {
            type: 'object',
            additionalProperties: {
              oneOf: [
                { const: 'same' },
                {
                  type: 'object', additionalProperties: false,
                  properties: {
                    why: { type: 'string' },
                    zone: {
                      type: 'array',
                      items: {
                        type: 'object', required: ['syscall'], additionalProperties: false,
                        properties: {
                          syscall: { type: 'string', minLength: 1 },
                          nth: { type: 'integer', minimum: 1 },
                          ret: valueSpec, errno: valueSpec,
                          data: { type: 'object', additionalProperties: valueSpec },
                          abis: { type: 'array', items: { enum: [...ABIS] } },
                          why: { type: 'string' },
                        },
                      },
                    },
                    ignore: { type: 'array', items: { type: 'string', pattern: '^[^.]+(#[0-9]+)?\\.(ret|errno|data(\\..+)?)$' } },
                    zoneOnly: { type: 'boolean' },
                    skip: { type: 'string', minLength: 1 },
                    abis: { type: 'array', items: { enum: [...ABIS] } },
                    timeoutMs: { type: 'integer', minimum: 1000 },
                  },
                },
              ],
            },
          },
        },
      },
    },
    programs: {
      type: 'object',
      additionalProperties: {
        type: 'object', required: ['script', 'requires'], additionalProperties: false,
        properties: {
          script: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          why: { type: 'string' },
          requires: { type: 'array', items: { type: 'string', minLength: 1 } },
          zone: zoneSettings,
          timeoutMs: { type: 'integer', minimum: 1000 },
          skip: { type: 'string', minLength: 1 },
        },
      },
    },
  },
} as const;

const knownSchema = {
  type: 'object',
  required: ['version', 'failures'],
  additionalProperties: false,
  properties: {
    $comment: { type: 'string' },
    version: { const: 1 },
    // "<id>", "<abi>:<id>", "<profile>:<id>" or "<profile>:<abi>:<id>" -> reason
    failures: { type: 'object', additionalProperties: { type: 'string', minLength: 3 } },
  },
} as const;

const checkManifest = lazySchema(schema, { allErrors: true, allowUnionTypes: true });
const checkKnown = lazySchema(knownSchema, { allErrors: true, allowUnionTypes: true });

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LxzoneError(`${file}: cannot read: ${(err as Error).message}`, { where: file, cause: err });
  }
}

function firstErrors(errors: { instancePath: string; message?: string }[] | null | undefined): string {
  return (errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ');
}

export function parseManifest(data: unknown, where: string): Manifest {
  if (!checkManifest(data)) {
    throw new LxzoneError(`${where}: invalid conformance manifest: ${firstErrors(checkManifest.errors)}`, { where, code: 'EINVAL' });
  }
  const m = data as Manifest;
  for (const [probe, spec] of Object.entries(m.probes)) {
    for (const [name, c] of Object.entries(spec.cases)) {
      if (c === 'same') continue;
      if (c.zoneOnly && !c.zone?.length && !c.skip) {
        throw new LxzoneError(`${where}: probes.${probe}.cases.${name}: a zone-only case needs zone expectations`, { where, code: 'EINVAL' });
      }
      for (const r of c.zone ?? []) {
        for (const v of [r.ret, r.errno, ...Object.values(r.data ?? {})]) {
          if (v && typeof v === 'object' && 're' in v) {
            try {
              new RegExp(v.re);
            } catch (err) {
              throw new LxzoneError(`${where}: probes.${probe}.cases.${name}: bad regular expression ${v.re}: ${(err as Error).message}`, { where, code: 'EINVAL' });
            }
          }
        }
      }
    }
  }
  return m;
}

export function loadManifest(file = MANIFEST_FILE): Manifest {
  return parseManifest(readJson(file), file);
}

export function loadKnownFailures(file = KNOWN_FAILURES_FILE): Record<string, string> {
  const data = readJson(file);
  if (!checkKnown(data)) {
    throw new LxzoneError(`${file}: invalid known-failures file: ${firstErrors(checkKnown.errors)}`, { where: file, code: 'EINVAL' });
  }
  return (data as { failures: Record<string, string> }).failures;
}

/**
 * The known-failure reason for a case: the most specific key first,
 * "<profile>:<abi>:<id>", "<profile>:<id>", "<abi>:<id>", then "<id>"
 * (profile keys say what fails only under that profile, e.g. strict's kills).
 */
export function knownFailure(known: Record<string, string>, abi: Abi, id: string, profile = 'default'): string | undefined {
  return known[`${profile}:${abi}:${id}`] ?? known[`${profile}:${id}`] ?? known[`${abi}:${id}`] ?? known[id];
}

/** The normalised spec of a case. */
export function caseSpec(spec: 'same' | CaseSpec): CaseSpec {
  return spec === 'same' ? {} : spec;
}
