// Compiles the build did not make (a zone's own extra rules, a named zone's
// options, a trace list), kept by content in lxzone's state directory:
// <state>/cache/policy/<key>.json, the key being the build cache's (every
// rule, table, compiler file and option, src/policy/cache.ts). Without it,
// every `lxzone exec` into such a zone loaded ajv, validated the rules and
// compiled them again (hundreds of ms on a loaded machine).
//
// Trust: a cached filter is what the kernel will enforce on a zone, so an
// entry another user could have written would be an escape. The directory
// is private (ensurePrivateDir: ours, 0700, under directories no one else can
// change: /var/lib/lxzone as root); an entry is read only when it is a
// regular file (no symlink followed) owned by us and writable by no one else,
// in that directory as checked on each read, and its checksum (over its key
// and what it holds, so an entry renamed to another key fails) matches. Anything else is a miss, and a
// miss compiles, which is always correct. Writes are atomic (temp + rename)
// and never fail a start: a cache that cannot be written is only slower.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { defaultPaths, ensurePrivateDir } from '../zone/state/paths.js';
import { writeFileAtomic } from '../zone/state/atomic.js';
import { decodeEntry, encodeEntry } from './cache.js';
import type { CompiledPolicy } from './compile.js';

/** Entries kept; past this the oldest go (each is a few KiB). */
const MAX_ENTRIES = 256;

export function userCacheDir(): string {
  return join(defaultPaths().stateDir, 'cache', 'policy');
}

const checksum = (key: string, p: CompiledPolicy): string =>
  createHash('sha256').update(`${key}\0`).update(p.bpf).update(p.dispatch).digest('hex');

/** The cached policy for this key, if a trustworthy entry holds it. */
export function readUserCached(key: string): CompiledPolicy | undefined {
  const dir = userCacheDir();
  const file = join(dir, `${key}.json`);
  let fd: number;
  try {
    ensurePrivateDir(dir);
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined; // none, a symlink, or a directory others could change: a miss
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? 0;
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o022) !== 0) return undefined;
    const text = readFileSync(fd, 'utf8');
    const [body, sum] = text.split('\n');
    const policy = decodeEntry(body ?? '');
    return policy && sum === checksum(key, policy) ? policy : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** Keeps a fresh compile for the next start; failures are ignored (see the header). */
export function writeUserCached(key: string, policy: CompiledPolicy): void {
  try {
    const dir = userCacheDir();
    ensurePrivateDir(dir);
    writeFileAtomic(join(dir, `${key}.json`), `${encodeEntry(policy)}${checksum(key, policy)}\n`, 0o600, false, false);
    prune(dir);
  } catch {
    // Read-only or untrusted state directory: this start compiled, the next one will too.
  }
}

function prune(dir: string): void {
  const names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names.map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, names.length - MAX_ENTRIES)) unlinkSync(join(dir, n));
}
