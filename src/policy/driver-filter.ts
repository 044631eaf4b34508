// The seccomp filter of the FUSE drivers the supervisor starts for a zone's
// mount of a block image (native/supervisor/fuse_mount.cc): the fuse-driver
// profile (syscall-tables/rules/fuse-driver.json), compiled like a zone's
// filter from the same tables, for the host's native ABI only (the drivers
// are the host's own binaries; any other arch is killed). The build
// precompiles it (scripts/precompile-policies.mjs), so a zone start reads it.
import type { Abi } from '../tables/types.js';
import { compilePolicy, type CompileInput } from './compile.js';
import { hostAbis } from './tables.js';

export const DRIVER_PROFILE = 'fuse-driver';

/** The compile input of the driver filter (also what the build precompiles). */
export function driverFilterInput(abis: readonly Abi[] = hostAbis()): CompileInput {
  return { profile: DRIVER_PROFILE, abis: [abis[0]!] };
}

let cached: Buffer | undefined;

/** struct sock_filter[] of the driver filter; compiled (or read from the build's cache) once per process. */
export function driverFilter(): Buffer {
  cached ??= compilePolicy(driverFilterInput()).bpf;
  return cached;
}
