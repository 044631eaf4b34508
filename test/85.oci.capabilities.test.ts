// process.capabilities in a real zone: each of the five sets as the config
// gives it, within the zone's own set (asking for more never gives more, and
// is noted); a non-root user keeps its ambient capabilities across exec; no
// capabilities object means none. The TypeScript list of the zone's set
// (src/oci/capabilities.ts) is checked against what the shim grants.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { ZONE_CAPS } from '../src/oci/capabilities.js';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';


const ALL = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];
const mask = (names: string[]): bigint => names.reduce((m, n) => m | (1n << BigInt(ALL.indexOf(n))), 0n);
const sets = (names: string[]) => ({ bounding: names, effective: names, permitted: names, inheritable: names, ambient: names });

/** Cap* lines of /proc/self/status as the container's process sees them. */
function capsOf(stdout: string): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const m of stdout.matchAll(/^Cap(Inh|Prm|Eff|Bnd|Amb):\s+([0-9a-f]+)$/gm)) out[m[1]!] = BigInt(`0x${m[2]}`);
  return out;
}

describeUnless(rootOnly(), 'lxzone-runc process.capabilities', () => {
  const h = useOciHarness('lxz85cap');

  const run = async (id: string, edit: (c: any) => void) => {
    const b = h.bundle(id, (c) => {
      c.process.args = ['/bin/sh', '-c', 'grep ^Cap /proc/self/status'];
      edit(c);
    });
    const log = join(h.work, `${id}.log`);
    const r = await h.runc(['--log', log, 'run', '--bundle', b, id]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    let notes = '';
    try { notes = readFileSync(log, 'utf8'); } catch { /* no notes */ }
    return { caps: capsOf(r.stdout), notes };
  };

  it('each set as configured, within the zone\'s; what is not granted is noted', async () => {
    const { caps, notes } = await run('c1', (c) => (c.process.capabilities = sets(['CAP_CHOWN', 'CAP_KILL', 'CAP_MKNOD'])));
    const want = mask(['CAP_CHOWN', 'CAP_KILL']);
    expect(caps).toEqual({ Inh: want, Prm: want, Eff: want, Bnd: want, Amb: want });
    expect(notes).toMatch(/process\.capabilities: CAP_MKNOD not granted/);
  });

  it('asking for every capability gives exactly the zone\'s set (the list in src/oci/capabilities.ts)', async () => {
    const { caps } = await run('c2', (c) => (c.process.capabilities = { bounding: ALL, effective: ALL, permitted: ALL }));
    expect(caps.Bnd).toBe(mask(ZONE_CAPS));
    expect(caps.Eff).toBe(mask(ZONE_CAPS));
    expect(caps.Inh).toBe(0n);
    expect(caps.Amb).toBe(0n);
  });

  it('a non-root user keeps its ambient capabilities across exec; without an object there are none', async () => {
    const nb = await run('c3', (c) => {
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.capabilities = sets(['CAP_NET_BIND_SERVICE']);
    });
    expect(nb.caps.Eff).toBe(mask(['CAP_NET_BIND_SERVICE']));
    expect(nb.caps.Amb).toBe(mask(['CAP_NET_BIND_SERVICE']));
    const none = await run('c4', (c) => delete c.process.capabilities);
    expect(none.caps).toEqual({ Inh: 0n, Prm: 0n, Eff: 0n, Bnd: 0n, Amb: 0n });
    const r = await h.runc(['create', '--bundle', h.bundle('c5', (c) => (c.process.capabilities = { bounding: ['CAP_NOPE'] })), 'c5']);
    expect(r.stderr).toMatch(/process\.capabilities\.bounding\[0\]: CAP_NOPE is not a Linux capability|\/process\/capabilities\/bounding\/0/);
    expect(r.code).toBe(1);
  });
});
