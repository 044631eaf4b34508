// Compiled policies by content. A filter is a pure function of the rules, the
// syscall tables, the compiler and the compile options, so one content
// compiles once: `npm ci` (scripts/precompile-policies.mjs) compiles the
// shipped profiles for this host's ABIs into dist/policy-cache/, and a zone
// start whose input hashes to one of them reads it instead of loading the
// tables, validating the rules and compiling (~45 ms warm, several times that
// on a cold CLI start, where it was most of `lxzone run`'s own time).
//
// Trust: the cache sits inside the installation, written by its build, with
// the same owner and the same trust as the compiler's code beside it; nothing
// at run time writes it. The key covers every input: a changed rule, table,
// compiler file or option is a different key, so a stale entry is never read.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompiledPolicy, CompileInput } from './compile.js';
import { packageRoot, rulesDir } from './paths.js';

/** Bumped when the entry format changes. */
const FORMAT = 1;

const here = dirname(fileURLToPath(import.meta.url));

/** Where prebuilt entries live: beside the compiled code (dist/policy-cache/). */
export function cacheDir(): string {
  return resolve(here, '..', 'policy-cache');
}

function hashDir(h: ReturnType<typeof createHash>, dir: string, suffix: RegExp): void {
  for (const name of readdirSync(dir).filter((n) => suffix.test(n)).sort()) {
    h.update(`${name}\0`);
    h.update(readFileSync(join(dir, name)));
  }
}

/** Code, built or source; not declarations or source maps. */
const CODE = /^(?!.*\.d\.ts$).*\.(js|ts)$/;

let contentHash: string | undefined;

/** The hash of everything a compile reads besides its options: rules, tables, the compiler's code. */
function inputsHash(): string {
  if (contentHash) return contentHash;
  const h = createHash('sha256');
  h.update(`lxzone-policy-cache/${FORMAT}\0`);
  hashDir(h, rulesDir(), /\.json$/);
  hashDir(h, resolve(packageRoot(), 'syscall-tables', 'linux'), /\.json$/);
  // The compiler and the table loader, as built (dist/*.js) or run from source (src/*.ts).
  hashDir(h, here, CODE);
  hashDir(h, resolve(here, '..', 'tables'), CODE);
  // Handler ids and arch values come from the generated seam module (seam/facts.json).
  hashDir(h, resolve(here, '..'), /^seam\.generated\.(js|ts)$/);
  contentHash = h.digest('hex');
  return contentHash;
}

/**
 * The cache key of a compile input, or undefined when it cannot be cached: a
 * profile given as a file path (its `extends` may reach files outside the
 * rules directory) or test tables. Options that are false or absent mean the
 * same to the compiler and hash the same.
 */
export function policyKey(input: CompileInput, abis: readonly string[]): string | undefined {
  if (input.tables) return undefined;
  if (typeof input.profile === 'string' && !/^[a-z][a-z0-9-]*$/.test(input.profile)) return undefined;
  const options: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input).sort(([a], [b]) => a.localeCompare(b))) {
    if (k === 'abis' || v === undefined || v === false) continue;
    options[k] = v;
  }
  options.abis = [...abis];
  return createHash('sha256').update(inputsHash()).update(JSON.stringify(options)).digest('hex').slice(0, 32);
}

interface Entry {
  format: number;
  bpf: string;
  dispatch: string;
  instructions: number;
}

export function encodeEntry(p: CompiledPolicy): string {
  const e: Entry = { format: FORMAT, bpf: p.bpf.toString('base64'), dispatch: p.dispatch.toString('base64'), instructions: p.instructions };
  return `${JSON.stringify(e)}\n`;
}

/** The prebuilt policy for this key, if the build made one. */
export function readCached(key: string): CompiledPolicy | undefined {
  const file = join(cacheDir(), `${key}.json`);
  if (!existsSync(file)) return undefined;
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as Entry;
    if (e.format !== FORMAT) return undefined;
    const bpf = Buffer.from(e.bpf, 'base64');
    if (bpf.length !== e.instructions * 8) return undefined;
    return { bpf, dispatch: Buffer.from(e.dispatch, 'base64'), instructions: e.instructions };
  } catch {
    // A damaged entry is a miss: the caller compiles, which is always correct.
    return undefined;
  }
}
