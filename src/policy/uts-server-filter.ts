// The seccomp filter of lxzone-utsfs, the keeper's FUSE server of a zone's
// /proc/sys/kernel/hostname and domainname (native/shim/uts_sysctl_server.cc):
// the uts-server profile (syscall-tables/rules/uts-server.json), compiled like
// a zone's filter from the same tables, for the host's native ABI only (the
// server is lxzone-shim itself; any other arch is killed). Carried to the
// keeper in the shim's config (`uts-server-filter`), so it reaches every zone
// start: Node's, the daemon's and the native front end's (whose launch
// description holds the config). The build precompiles it
// (scripts/precompile-policies.mjs), so a zone start reads it.
import type { Abi } from '../tables/types.js';
import { compilePolicy, type CompileInput } from './compile.js';
import { hostAbis } from './tables.js';

export const UTS_SERVER_PROFILE = 'uts-server';

/** The compile input of the UTS sysctl server's filter (also what the build precompiles). */
export function utsServerFilterInput(abis: readonly Abi[] = hostAbis()): CompileInput {
  return { profile: UTS_SERVER_PROFILE, abis: [abis[0]!] };
}

let cached: Buffer | undefined;

/** struct sock_filter[] of the UTS sysctl server's filter; compiled (or read from the build's cache) once per process. */
export function utsServerFilter(): Buffer {
  cached ??= compilePolicy(utsServerFilterInput()).bpf;
  return cached;
}
