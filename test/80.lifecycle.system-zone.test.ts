// System zones: a Debian 12 image (debootstrap from Debian's archive,
// scripts/debian-rootfs.sh, cached by content) created without a command
// boots its own systemd as pid 1 to multi-user.target; journald and a
// PrivateTmp=yes service work; `lxzone halt` shuts it down through systemd;
// `systemctl reboot` inside restarts it with a new boot id.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it, vi } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(97);

/** `lxzone ARGS`, which must succeed: unpacking a 150 MB image on a loaded host takes a while. */
async function ok(args: string[]): Promise<string> {
  const r = await env.cli(args, { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`lxzone ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Units that may fail in a system zone, each with the reason (also in
 * docs/parts/system-zones.md). A failed unit not listed here fails the test.
 */
const EXPLAINED_FAILURES: Record<string, string> = {};

let image = '';
beforeAll(() => {
  // debootstrap takes a few minutes the first time; later runs take the cached tar.
  vi.setConfig({ hookTimeout: 20 * 60_000 });
  image = execFileSync('bash', [join(__dirname, '..', 'scripts', 'debian-rootfs.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 20 * 60_000,
  })
    .toString()
    .trim();
}, 20 * 60_000);

/** A command in the zone through `lxzone exec`; its stdout (throws with its stderr on failure). */
async function inZone(zone: string, script: string): Promise<string> {
  const r = await env.cli(['exec', zone, '--', '/bin/sh', '-c', script], { timeoutMs: 180_000 });
  if (r.code !== 0) throw new Error(`in zone ${zone}: ${script}: exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Waits for systemd to finish booting; returns `systemctl is-system-running` and the failed units. */
async function bootedState(zone: string): Promise<{ state: string; failed: string[] }> {
  const out = await env.cli(['exec', zone, '--', '/bin/sh', '-c', 'systemctl is-system-running --wait; echo ---; systemctl list-units --failed --plain --no-legend --no-pager'], { timeoutMs: 180_000 });
  const [state = '', failed = ''] = out.stdout.split('---\n');
  return { state: state.trim(), failed: failed.split('\n').map((l) => l.split(/\s+/)[0] ?? '').filter(Boolean) };
}

function expectBooted(s: { state: string; failed: string[] }): void {
  expect(['running', 'degraded']).toContain(s.state);
  for (const unit of s.failed) expect(EXPLAINED_FAILURES, `failed unit ${unit} has no documented reason`).toHaveProperty(unit);
}

it('a Debian image created without a command boots systemd as pid 1 to multi-user.target; journald and PrivateTmp work', async () => {
  const created = JSON.parse(await ok(['create', 'deb', '--image', image, '--network', 'none', '--json'])) as { system?: boolean };
  expect(created.system).toBe(true);
  await ok(['boot', 'deb']);
  expectBooted(await bootedState('deb'));

  // pid 1 is the image's systemd (no lxzone reaper between), told it is in a container
  // (systemd knows no "lxzone": container-other), with its manager named.
  expect(await inZone('deb', 'cat /proc/1/comm; systemd-detect-virt -c; cat /run/systemd/container; systemctl is-active multi-user.target')).toBe(
    'systemd\ncontainer-other\nlxzone\nactive\n',
  );
  // /dev/console is the zone's terminal, copied to its log: systemd's status lines, a getty.
  const logs = await ok(['logs', 'deb']);
  expect(logs).toMatch(/Reached target .*multi-user\.target/);
  expect(await inZone('deb', 'test -c /dev/console && systemctl is-active console-getty')).toBe('active\n');
  // Its own cgroup tree, writable: init.scope and system.slice are systemd's.
  expect(await inZone('deb', 'grep ^0:: /proc/1/cgroup; stat -f -c %T /sys/fs/cgroup')).toBe('0::/init.scope\ncgroup2fs\n');

  // journald: a line through syslog(3) (/dev/log) and one through the journal's stream socket.
  await inZone('deb', 'logger -t lxztest via-syslog && echo via-stream | systemd-cat -t lxztest');
  const logged = await waitFor(async () => {
    const out = await inZone('deb', 'journalctl -t lxztest -o cat --no-pager');
    return out.includes('via-syslog') && out.includes('via-stream') ? out : '';
  }, 30_000);
  expect(logged).toContain('via-stream');

  // PrivateTmp=yes: the service sees a /tmp of its own, the zone's /tmp does not see its files.
  const ptmp = await inZone(
    'deb',
    'touch /tmp/zone-file; systemd-run --quiet --wait -p PrivateTmp=yes /bin/sh -c "touch /tmp/service-file; ls -A /tmp > /run/ptmp.out"; cat /run/ptmp.out; echo ---; ls -A /tmp',
  );
  const [service = '', zone = ''] = ptmp.split('---\n');
  expect(service.split('\n').filter(Boolean)).toEqual(['service-file']);
  expect(zone).toContain('zone-file');
  expect(zone).not.toContain('service-file');
});

it('halt shuts a system zone down through systemd; reboot(2) inside restarts it with a new boot', async () => {
  await ok(['create', 'deb2', '--image', image, '--network', 'none']);
  await ok(['boot', 'deb2']);
  expectBooted(await bootedState('deb2'));

  // halt: SIGRTMIN+3 to systemd, which stops its units and ends in systemd-shutdown's
  // reboot(RB_HALT_SYSTEM); a zone killed after the grace period would show no reboot.
  await ok(['halt', 'deb2']);
  const halted = await env.inspect('deb2');
  expect(halted.state).toBe('stopped');
  expect(halted.lastExit).toMatchObject({ reboot: 'halt', exitCode: 0, haltedByUs: true });
  const daemonLog = readFileSync(join(env.stateDir, 'daemon.log'), 'utf8');
  expect(daemonLog).toContain('zone deb2: reboot(2) HALT from inside the zone');
  expect(daemonLog).not.toMatch(/zone deb2: still running after/);
  // systemd said so on its console, which is the zone's log.
  expect(await ok(['logs', 'deb2'])).toContain('Halting system.');

  await ok(['boot', 'deb2']);
  expectBooted(await bootedState('deb2'));
  const before = { pid: (await env.inspect('deb2')).pid, bootId: (await inZone('deb2', 'cat /proc/sys/kernel/random/boot_id')).trim() };
  await inZone('deb2', 'echo kept > /root/across-reboot');

  // systemctl reboot: systemd stops everything, then reboot(RB_AUTOBOOT); the zone comes back at once.
  await env.cli(['exec', 'deb2', '--', '/bin/systemctl', 'reboot'], { timeoutMs: 180_000 });
  const rebooted = await waitFor(async () => {
    const z = (await env.list()).find((x) => x.name === 'deb2');
    return z?.state === 'running' && z.pid !== before.pid ? z : undefined;
  }, 120_000);
  expect(rebooted).toBeDefined();
  expectBooted(await bootedState('deb2'));
  const after = await inZone('deb2', "cat /proc/sys/kernel/random/boot_id; cat /root/across-reboot; journalctl --list-boots --no-pager | grep -cE '^ *-?[0-9]+ [0-9a-f]{32} '");
  const [bootId, kept, boots] = after.trim().split('\n');
  expect(bootId).not.toBe(before.bootId);
  expect(kept).toBe('kept');
  // Three boots in the zone's own journal: before the halt, before the reboot, now.
  expect(Number(boots)).toBe(3);
  expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toContain('zone deb2: reboot(2) RESTART from inside the zone');
});

it("the init's CAP_SYS_ADMIN reaches only the zone's own mounts and cgroups: lxzone's mounts stay locked, the caps stay the host's", async () => {
  await ok(['create', 'deb3', '--image', image, '--network', 'none']);
  await ok(['boot', 'deb3']);
  expectBooted(await bootedState('deb3'));
  // As a service of the zone's systemd, with its capabilities (an image's init is
  // the image author's code), in a mount namespace of its own. Each line prints
  // the attempt and whether the kernel refused it.
  const attack = [
    'try() { if "$@" 2>/dev/null; then echo "$*: done"; else echo "$*: refused"; fi; }',
    'grep ^CapEff /proc/self/status',
    'try mount -t tmpfs tmpfs /mnt',
    'try umount /mnt',
    'try umount /proc/kcore',
    'try mount -o remount,rw /sys',
    'try mount -o remount,rw,bind /proc/sys',
    'try mount -t proc proc /mnt',
    'try mount -t sysfs sysfs /mnt',
    'try mount -t cgroup2 cgroup2 /mnt',
    'try cat /mnt/cgroup.max.descendants',
    'try umount /mnt',
    'try mount -t cgroup -o memory cgroup /mnt',
    'try sh -c "echo 1 > /mnt/memory.limit_in_bytes"',
    'try umount /mnt',
    'try sh -c "echo 100000 > /sys/fs/cgroup/cgroup.max.descendants"',
    'try unshare -u hostname evil',
    'try nsenter -t 1 -m true',
  ].join('\n');
  const out = await inZone('deb3', `systemd-run --quiet --wait --pipe unshare -m /bin/sh -c '${attack.replace(/'/g, "'\\''")}'`);
  const lines = out.trim().split('\n');
  // CAP_SYS_ADMIN (bit 21) is held, so each refusal below is the kernel's lock, not a missing capability.
  const capEff = BigInt(`0x${lines[0]!.split(/\s+/)[1]}`);
  expect(capEff & (1n << 21n)).toBe(1n << 21n);
  expect(lines.slice(1)).toEqual([
    'mount -t tmpfs tmpfs /mnt: done',
    'umount /mnt: done',
    // lxzone's mounts are locked: a mask stays, read-only stays read-only.
    'umount /proc/kcore: refused',
    'mount -o remount,rw /sys: refused',
    'mount -o remount,rw,bind /proc/sys: refused',
    // A new proc needs the pid namespace's owner; a new sysfs may not be less restricted than the zone's.
    'mount -t proc proc /mnt: refused',
    'mount -t sysfs sysfs /mnt: refused',
    // The cgroup namespace is the zone's: a cgroup mount is rooted at the zone's own cgroup
    // (4096 is the zone's cgroup.max.descendants; the host's root cgroup has no such file),
    // and the caps in it are the host's files, not the zone's to write.
    'mount -t cgroup2 cgroup2 /mnt: done',
    '4096',
    'cat /mnt/cgroup.max.descendants: done',
    'umount /mnt: done',
    'mount -t cgroup -o memory cgroup /mnt: done',
    'sh -c echo 1 > /mnt/memory.limit_in_bytes: refused',
    'umount /mnt: done',
    'sh -c echo 100000 > /sys/fs/cgroup/cgroup.max.descendants: refused',
    'unshare -u hostname evil: done',
    // The zone init's mount namespace is the zone's own (owned by its user namespace, where the
    // service holds CAP_SYS_ADMIN): joining it is allowed since setns is (issue 21.3). From a
    // nested user namespace it is refused (test/70.security.nested-namespaces, setns-init).
    'nsenter -t 1 -m true: done',
  ]);
  expect((await inZone('deb3', 'hostname; cat /sys/fs/cgroup/cgroup.max.descendants')).trim()).toBe('deb3\n4096');
});
