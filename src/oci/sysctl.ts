// linux.sysctl → the zone's own namespaces only. runc writes any sysctl the
// config names; for a zone that would let a bundle change the host's kernel
// (vm.*, kernel.* outside IPC and UTS). Only the sysctls of namespaces every
// zone has of its own are taken (runc's own validator's list): network
// (net.*), IPC (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*) and UTS
// (kernel.domainname; the hostname is the config's hostname field). The
// shim writes them in those namespaces (native/shim/zone_process.cc); a
// net.* name that is host-global shows no file there and fails clearly.
import { LxzoneError } from '../errors.js';

const IPC = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);

function namespaceOf(name: string): string | undefined {
  if (name.startsWith('net.')) return 'network';
  if (IPC.has(name) || name.startsWith('fs.mqueue.')) return 'IPC';
  if (name === 'kernel.domainname') return 'UTS';
  return undefined;
}

export function zoneSysctls(sysctl: Record<string, string>): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(sysctl)) {
    const where = `linux.sysctl.${name}`;
    const refuse = (why: string): never => {
      throw new LxzoneError(`config.json ${where}: ${why}`, { where, code: 'EINVAL' });
    };
    if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(name)) refuse('not a sysctl name');
    if (name === 'kernel.hostname') refuse('use the hostname field');
    if (!namespaceOf(name)) refuse("host-global: a container may set only sysctls of its own network, IPC and UTS namespaces (net.*, kernel.msg*/sem/shm*, fs.mqueue.*, kernel.domainname)");
    if (value.includes('\0') || value.length > 4096) refuse('value must be text of at most 4096 bytes');
    out.push([name, value]);
  }
  return out;
}
