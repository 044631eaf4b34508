// process.user.additionalGids, linux.sysctl and linux.resources.memory.swap
// -1 in real containers: the supplementary groups are the process's (in
// /proc/self/status and for file access); sysctls of the zone's own network,
// IPC and UTS namespaces are set there and not on the host, host-global ones
// are refused naming the field; swap -1 leaves swap unlimited above the cap.
import { chmodSync, chownSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { detectCgroups } from '../src/zone/cgroups/index.js';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc process.user, linux.sysctl, memory.swap', () => {
  const h = useOciHarness('lxz85proc');

  it('additionalGids are the process\'s supplementary groups, and grant group access', async () => {
    let rootfs = '';
    const b = h.bundle('g1', (c) => {
      rootfs = c.root.path;
      c.root.readonly = false;
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27, 27] };
      // /work: group 27's, 0070; without group 27 uid 1000 cannot list it.
      c.process.args = ['/bin/sh', '-c', 'grep ^Groups: /proc/self/status; ls /work >/dev/null && echo listed'];
    });
    chownSync(join(rootfs, 'work'), 0, 27);
    chmodSync(join(rootfs, 'work'), 0o070);
    const r = await h.runc(['run', '--bundle', b, 'g1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Groups:\s+5 27\s*$/m);
    expect(r.stdout).toContain('listed');
    // And without the group, the same directory is closed to it.
    const b2 = h.bundle('g2', (c) => {
      c.root.path = rootfs;
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.args = ['/bin/sh', '-c', 'grep ^Groups: /proc/self/status; ls /work >/dev/null 2>&1 && echo listed; true'];
    });
    const r2 = await h.runc(['run', '--bundle', b2, 'g2']);
    expect(r2.stdout).toMatch(/^Groups:\s*$/m);
    expect(r2.stdout).not.toContain('listed');
  });

  it('memory.swap -1 is unlimited swap above the memory cap (a cap without swap stays hard)', async () => {
    const host = detectCgroups();
    const swapFile = (rel: string): string | undefined => {
      const f = host.version === 2 ? join(host.v2Root!, rel, 'memory.swap.max') : join(host.v1Mounts.get('memory')!, rel, 'memory.memsw.limit_in_bytes');
      try {
        return readFileSync(f, 'utf8').trim();
      } catch {
        return undefined; // no swap accounting on this kernel
      }
    };
    const limitOf = async (id: string, swap: number | undefined): Promise<string | undefined> => {
      const b = h.bundle(id, (c) => {
        c.process.args = ['/bin/sleep', '30'];
        c.linux.resources = { memory: { limit: 64 * 1048576, ...(swap !== undefined ? { swap } : {}) } };
      });
      const created = await h.runc(['create', '--bundle', b, id], { out: join(h.work, `${id}.out`) });
      expect(created.code, created.stderr).toBe(0);
      try {
        const rec = JSON.parse(readFileSync(join(h.stateDir, id, 'state.json'), 'utf8'));
        return swapFile(rec.cgroupPath);
      } finally {
        await h.runc(['delete', '--force', id]);
      }
    };
    const unlimited = await limitOf('s1', -1);
    if (unlimited === undefined) {
      process.stderr.write('test/85.oci.process: swap check skipped: no swap accounting on this kernel\n');
      return;
    }
    const hard = await limitOf('s2', undefined);
    if (host.version === 2) {
      expect(unlimited).toBe('max');
      expect(hard).toBe('0');
    } else {
      expect(BigInt(unlimited)).toBeGreaterThan(BigInt(64 * 1048576) * 1024n);
      expect(hard).toBe(String(64 * 1048576));
    }
  });

  it('linux.sysctl: the zone\'s own namespaces get them, the host does not; host-global ones are refused', async () => {
    const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8');
    const hostShmmni = readFileSync('/proc/sys/kernel/shmmni', 'utf8');
    const b = h.bundle('sc1', (c) => {
      c.linux.sysctl = { 'net.ipv4.ip_forward': hostForward.trim() === '1' ? '0' : '1', 'kernel.shmmni': '1234', 'kernel.domainname': 'zone.test' };
      c.process.args = ['/bin/sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmni /proc/sys/kernel/domainname'];
    });
    const r = await h.runc(['run', '--bundle', b, 'sc1']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual([hostForward.trim() === '1' ? '0' : '1', '1234', 'zone.test', '']);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe(hostForward);
    expect(readFileSync('/proc/sys/kernel/shmmni', 'utf8')).toBe(hostShmmni);
    for (const [name, why] of [['vm.swappiness', /host-global/], ['kernel.hostname', /hostname field/], ['net/../../vm', /not a sysctl name/]] as const) {
      const bad = h.bundle('sc2', (c) => (c.linux.sysctl = { [name]: '1' }));
      const refused = await h.runc(['run', '--bundle', bad, 'sc2']);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`linux.sysctl.${name}`);
      expect(refused.stderr).toMatch(why);
      expect(refused.stderr).not.toMatch(/\bat .*\.js/); // no stack trace
      expect((await h.runc(['state', 'sc2'])).code).not.toBe(0);
    }
  });
});
