// Where the suite's files live: the manifest and known failures under
// fixtures/conformance/, probe binaries under fixtures/bin/, program scripts
// under fixtures/programs/. src/ and dist/ are both two levels below the root.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi } from '../tables/types.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURES_DIR = join(PACKAGE_ROOT, 'fixtures');
export const MANIFEST_FILE = join(FIXTURES_DIR, 'conformance', 'manifest.json');
export const KNOWN_FAILURES_FILE = join(FIXTURES_DIR, 'conformance', 'known-failures.json');
export const PROGRAMS_DIR = join(FIXTURES_DIR, 'programs');

/** The ABI of this host's native binaries. */
export function nativeAbi(): Abi {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  if (process.arch === 'ia32') return 'i386';
  throw new Error(`conformance: unsupported host architecture ${process.arch}`);
}

/** The probe builds on this host, by ABI: the native one, and i386 beside x86_64. */
export function probeDirs(): { abi: Abi; dir: string }[] {
  const abi = nativeAbi();
  const dirs = [{ abi, dir: join(FIXTURES_DIR, 'bin', 'probes') }];
  if (abi === 'x86_64') dirs.push({ abi: 'i386', dir: join(FIXTURES_DIR, 'bin', 'probes32') });
  return dirs;
}
