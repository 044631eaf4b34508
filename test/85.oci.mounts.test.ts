// The config's mounts and masks over lxzone's own /proc, /dev and /sys
// (native/shim/mounts.cc build_zone_filesystem): a bind under /dev (the
// termination log Kubernetes binds at /dev/termination-log in every
// container) and a bind over a file of /proc are seen in the container, not
// covered by the zone's own mounts; maskedPaths under /proc and /sys are
// masked; the mount table lists /proc, /dev (its pts, shm and mqueue) and
// /sys in runc's default config's order, then the config's mounts; /dev/shm's
// source is `shm` and a config tmpfs's `tmpfs`, as under runc.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

/** Mount points and sources of /proc/self/mountinfo, in its order. */
function mounts(text: string): { at: string; type: string; source: string }[] {
  return text.split('\n').filter((l) => l.includes(' - ')).map((l) => {
    const [pre, post] = l.split(' - ');
    const [type, source] = post!.split(' ');
    return { at: pre!.split(' ')[4]!, type: type!, source: source! };
  });
}

describeUnless(rootOnly(), 'lxzone-runc mounts and masks over the zone\'s own /proc, /dev, /sys', () => {
  const h = useOciHarness('lxz85mnt', { timeoutMs: 120_000 });

  it('a bind under /dev and over a /proc file show; masks under /proc and /sys hide; the order and sources are runc\'s', async () => {
    const termLog = join(h.work, 'termination-log');
    // The kubelet makes it 0666: the container's user is not host root.
    writeFileSync(termLog, '', { mode: 0o666 });
    chmodSync(termLog, 0o666);
    const uptime = join(h.work, 'uptime');
    writeFileSync(uptime, '12345.67 890.12\n');
    const b = h.bundle('m1', (c) => {
      c.mounts.push(
        { destination: '/dev/termination-log', type: 'bind', source: termLog, options: ['rbind', 'rw'] },
        { destination: '/proc/uptime', type: 'bind', source: uptime, options: ['rbind', 'ro'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
      );
      c.linux.maskedPaths = [...(c.linux.maskedPaths ?? []), '/proc/interrupts', '/sys/kernel/mm', '/etc/os-release', '/no/such/path'];
      c.process.args = ['/bin/sh', '-c', [
        'echo terminated > /dev/termination-log',
        'echo "uptime=$(cat /proc/uptime)"',
        'echo "interrupts=$(cat /proc/interrupts | wc -c)"',
        'echo "mm=$(ls /sys/kernel/mm | wc -l)"',
        'echo "osrelease=$(cat /etc/os-release | wc -c)"',
        'cat /proc/self/mountinfo',
      ].join('; ')];
    });
    const r = await h.runc(['run', '--bundle', b, 'm1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(termLog, 'utf8')).toBe('terminated\n');
    expect(r.stdout).toContain('uptime=12345.67 890.12');
    expect(r.stdout).toContain('interrupts=0');
    expect(r.stdout).toContain('mm=0');
    expect(r.stdout).toContain('osrelease=0');

    const table = mounts(r.stdout);
    const index = (at: string, type?: string): number => table.findIndex((m) => m.at === at && (type === undefined || m.type === type));
    // mountinfo lists each mount after its parent and its parent's earlier children: a bind under /dev
    // shows among /dev's mounts, before /sys; one of the root's (/scratch) after /sys.
    const order = ['/proc', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/termination-log', '/sys', '/scratch'].map((p) => index(p));
    expect(order.every((i) => i >= 0), JSON.stringify(order)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(table[index('/dev/shm')]!.source).toBe('shm');
    expect(table[index('/scratch')]).toMatchObject({ type: 'tmpfs', source: 'tmpfs' });
    // The bind's target was made in the zone's /dev, not in the bundle's rootfs.
    const rootfs = JSON.parse(readFileSync(join(b, 'config.json'), 'utf8')).root.path as string;
    expect(existsSync(join(rootfs, 'dev', 'termination-log'))).toBe(false);
    // The masked file of the rootfs is masked in the container only.
    expect(readFileSync(join(rootfs, 'etc', 'os-release'), 'utf8')).toBe('ID=lxzone-test\n');
    expect(existsSync(join(h.stateDir, 'm1'))).toBe(false);
  }, 120_000);

  it("a bind at /dev/shm (a pod's shared shm, as containerd binds the sandbox's) replaces the zone's own: two containers share it", async () => {
    const shm = join(h.work, 'pod-shm');
    mkdirSync(shm, { mode: 0o1777 });
    chmodSync(shm, 0o1777);
    const bundle = (id: string, script: string) => h.bundle(id, (c) => {
      c.mounts.push({ destination: '/dev/shm', type: 'bind', source: shm, options: ['rbind', 'rw'] });
      c.process.args = ['/bin/sh', '-c', script];
    });
    const w = await h.runc(['run', '--bundle', bundle('shm1', 'echo shared > /dev/shm/seg'), 'shm1']);
    expect(w.code, w.stderr).toBe(0);
    expect(readFileSync(join(shm, 'seg'), 'utf8')).toBe('shared\n');
    const r = await h.runc(['run', '--bundle', bundle('shm2', 'cat /dev/shm/seg'), 'shm2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('shared\n');
  }, 120_000);

  it('a masked path that is not absolute, or is the root, is refused naming it', async () => {
    const cases: [string, string[], RegExp][] = [
      ['mroot', ['/'], /linux\.maskedPaths\[0\]: \/ cannot be masked/],
      ['mdots', ['/proc/../etc'], /linux\.maskedPaths\[0\]: \/proc\/\.\.\/etc cannot be masked/],
    ];
    const results = await Promise.all(cases.map(([id, paths]) => h.runc(['create', '--bundle', h.bundle(id, (c) => (c.linux.maskedPaths = paths)), id])));
    for (const [i, [id, , msg]] of cases.entries()) {
      expect(results[i]!.code, id).toBe(1);
      expect(results[i]!.stderr, id).toMatch(msg);
      expect(existsSync(join(h.stateDir, id)), id).toBe(false);
    }
  }, 120_000);
});
