// Compiled policies by content. A filter is a pure function of the rules, the
// syscall tables, the compiler and the compile options, so one content
// compiles once: `npm ci` (scripts/precompile-policies.mjs) compiles the
// shipped profiles for this host's ABIs into dist/policy-cache/, and a zone
// start whose input hashes to one of them reads it instead of loading the
// tables, validating the rules and compiling (~45 ms warm, several times that
// on a cold CLI start, where it was most of `lxzone run`'s own time).
//
// Hashing the inputs themselves (every rule, table and compiler file) cost a
// cold CLI start another ~15-30 ms, so the build also writes inputs.stat: the
// hash with the identity of each file it read (device, inode, size, mtime and
// ctime, in ns). A start whose files all match it takes the hash from there.
// ctime is set by the kernel on every change of a file's content or metadata
// and cannot be set back, so an edited file never matches and is hashed.
//
// Trust: the cache sits inside the installation, written by its build, with
// the same owner and the same trust as the compiler's code beside it; nothing
// at run time writes it. The key covers every input: a changed rule, table,
// compiler file or option is a different key, so a stale entry is never read.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** Code, built or source; not declarations or source maps. */
const CODE = /^(?!.*\.d\.ts$).*\.(js|ts)$/;

/** Every file a compile reads besides its options, in hashing order: rules, tables, the compiler's code. */
export function policyInputFiles(): string[] {
  const dirs: Array<[string, RegExp]> = [
    [rulesDir(), /\.json$/],
    [resolve(packageRoot(), 'syscall-tables', 'linux'), /\.json$/],
    // The compiler and the table loader, as built (dist/*.js) or run from source (src/*.ts).
    [here, CODE],
    [resolve(here, '..', 'tables'), CODE],
    // Handler ids and arch values come from the generated seam module (seam/facts.json).
    [resolve(here, '..'), /^seam\.generated\.(js|ts)$/],
  ];
  return dirs.flatMap(([dir, suffix]) => readdirSync(dir).filter((n) => suffix.test(n)).sort().map((n) => join(dir, n)));
}

/** The full hash of these files (by base name and content), as the build records it. */
export function hashInputFiles(files: readonly string[]): string {
  const h = createHash('sha256');
  h.update(`lxzone-policy-cache/${FORMAT}\0`);
  for (const file of files) {
    h.update(`${file.slice(file.lastIndexOf('/') + 1)}\0`);
    h.update(readFileSync(file));
  }
  return h.digest('hex');
}

/** A file's identity: any change to it (content, mode, owner, a rename over it) changes one of these. */
function identity(file: string): string {
  const st = statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

interface InputsStat {
  format: number;
  hash: string;
  files: Array<[string, string]>;
}

const inputsStatFile = (): string => join(cacheDir(), 'inputs.stat');

/** The hash recorded in statFile, when every one of files is still the one it hashed (what inputsHash trusts). */
export function recordedHashOf(files: readonly string[], statFile: string): string | undefined {
  let saved: InputsStat;
  try {
    saved = JSON.parse(readFileSync(statFile, 'utf8')) as InputsStat;
  } catch {
    // No record (a run from source, or a build before it had one): hash the files.
    return undefined;
  }
  if (saved.format !== FORMAT || saved.files.length !== files.length) return undefined;
  for (let i = 0; i < files.length; i++) {
    const [file, id] = saved.files[i]!;
    if (file !== files[i]) return undefined;
    try {
      if (identity(file) !== id) return undefined;
    } catch {
      return undefined; // gone since listed: hash what is there
    }
  }
  return saved.hash;
}

let contentHash: string | undefined;

/** The hash of everything a compile reads besides its options. */
function inputsHash(): string {
  if (contentHash) return contentHash;
  const files = policyInputFiles();
  contentHash = recordedHashOf(files, inputsStatFile()) ?? hashInputFiles(files);
  return contentHash;
}

/** For the build: records the inputs' hash with each file's identity (read by inputsHash). */
export function writeInputsStat(): void {
  writeInputsStatOf(policyInputFiles(), inputsStatFile());
}

/**
 * Records files' hash with each file's identity in statFile. The build records
 * the real inputs (writeInputsStat); tests record private copies, since
 * touching the installed inputs would make every launch description stale.
 */
export function writeInputsStatOf(files: readonly string[], statFile: string): void {
  // Identities first: a file changed while it is hashed then fails the check at run time.
  const ids = files.map((f): [string, string] => [f, identity(f)]);
  const saved: InputsStat = { format: FORMAT, hash: hashInputFiles(files), files: ids };
  writeFileSync(statFile, `${JSON.stringify(saved)}\n`);
}

/** The full hash of the inputs as they are now, never the recorded one (tests compare the two). */
export function hashInputsNow(): string {
  return hashInputFiles(policyInputFiles());
}

/** The recorded hash, when every input file is still the one the build hashed (for tests). */
export function recordedInputsHash(): string | undefined {
  return recordedHashOf(policyInputFiles(), inputsStatFile());
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
  // Code-point order, not localeCompare: its first call loads ICU's collator, which cost a CLI start tens of ms.
  for (const [k, v] of Object.entries(input).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
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

/** An entry's policy, or undefined when it is not a well-formed entry of this format. */
export function decodeEntry(text: string): CompiledPolicy | undefined {
  try {
    const e = JSON.parse(text) as Entry;
    if (e.format !== FORMAT) return undefined;
    const bpf = Buffer.from(e.bpf, 'base64');
    if (bpf.length !== e.instructions * 8) return undefined;
    return { bpf, dispatch: Buffer.from(e.dispatch, 'base64'), instructions: e.instructions };
  } catch {
    // A damaged entry is a miss: the caller compiles, which is always correct.
    return undefined;
  }
}

/** The prebuilt policy for this key, if the build made one (dir: tests read a private copy). */
export function readCached(key: string, dir = cacheDir()): CompiledPolicy | undefined {
  const file = join(dir, `${key}.json`);
  if (!existsSync(file)) return undefined;
  try {
    return decodeEntry(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // unreadable: a miss
  }
}
