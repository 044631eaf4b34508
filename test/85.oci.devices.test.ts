// linux.devices and linux.resources.devices in real zones (src/oci/devices.ts):
// the device list and allowlist containerd and dockerd write (a deny-all, then
// the default devices) are taken and the zone's devices stay usable; rules
// that deny the zone's own devices (containerd's pod sandbox denies all) are
// noted in the log naming each device kept and the rule; a node the zone does
// not have, or other numbers or permissions for one it has, are refused
// naming the entry, leaving nothing behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

/** containerd's and dockerd's default device allowlist (runc's AllowedDevices, as oci.WithDefaultDevices writes it). */
const DEFAULT_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

describeUnless(rootOnly(), 'lxzone-runc linux.devices, linux.resources.devices', () => {
  const h = useOciHarness('lxz85dev', { timeoutMs: 120_000 });

  it('the default device list and allowlist are taken; the zone reads and writes its devices', async () => {
    const b = h.bundle('defaults', (c) => {
      c.linux.devices = [
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o20666, uid: 0, gid: 0 },
        { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666 },
        { path: '/dev/ptmx', type: 'c', major: 5, minor: 2 },
      ];
      c.linux.resources = { devices: DEFAULT_RULES };
      c.process.args = ['/bin/sh', '-c', 'echo x > /dev/null && busybox head -c 8 /dev/urandom | wc -c && busybox head -c 4 /dev/zero | wc -c && echo devices-ok'];
    });
    const r = await h.runc(['run', '--bundle', b, 'defaults']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n').map((l) => l.trim())).toEqual(['8', '4', 'devices-ok', '']);
    expect(existsSync(join(h.stateDir, 'defaults'))).toBe(false);
  }, 120_000);

  it('rules denying the zone\'s own devices (a pod sandbox\'s deny-all) are noted naming each device and rule; the devices stay', async () => {
    const b = h.bundle('denyall', (c) => {
      c.linux.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 136, access: 'rwm' }, { allow: false, type: 'c', major: 136, minor: 3, access: 'r' }] };
      c.process.args = ['/bin/sh', '-c', 'busybox head -c 4 /dev/zero | wc -c'];
    });
    const logFile = join(h.work, 'denyall.log');
    const r = await h.runc(['--log', logFile, 'run', '--bundle', b, 'denyall']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('4');
    const note = readFileSync(logFile, 'utf8').split('\n').find((l) => l.includes('linux.resources.devices:'));
    expect(note).toContain("denies the zone's own /dev/zero (rw, by linux.resources.devices[0])");
    expect(note).toContain('/dev/pts/* (r, by linux.resources.devices[3])');
    expect(note).not.toContain('/dev/null');
  }, 120_000);

  it('refuses, naming the entry: nodes a zone does not have, other numbers or modes for one it has', async () => {
    const cases: [string, (c: any) => void, RegExp][] = [
      ['fuse', (c) => (c.linux.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3 }, { path: '/dev/fuse', type: 'c', major: 10, minor: 229 }]), /linux\.devices\[1\]: \/dev\/fuse \(c 10:229\): device nodes beyond a zone's own/],
      ['disk', (c) => (c.linux.devices = [{ path: '/dev/sda', type: 'b', major: 8, minor: 0 }]), /linux\.devices\[0\]: \/dev\/sda \(b 8:0\)/],
      ['renumbered', (c) => (c.linux.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 5 }]), /linux\.devices\[0\]: \/dev\/null \(c 1:5\)/],
      ['fifo', (c) => (c.linux.devices = [{ path: '/dev/myfifo', type: 'p' }]), /linux\.devices\[0\]: \/dev\/myfifo \(p \?:\?\)/],
      ['mode', (c) => (c.linux.devices = [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }]), /linux\.devices\[0\]\.fileMode: \/dev\/null is 0666 in every zone \(it asks 0600\)/],
    ];
    // Independent refusals: at once (each is a Node start under the host's load).
    const results = await Promise.all(cases.map(([id, edit]) => h.runc(['create', '--bundle', h.bundle(id, edit), id])));
    for (const [i, [id, , msg]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, id).toBe(1);
      expect(r.stderr, id).toMatch(msg);
      expect(r.stderr, id).not.toMatch(/\n\s+at /);
      expect(existsSync(join(h.stateDir, id)), id).toBe(false);
    }
  }, 180_000);
});
