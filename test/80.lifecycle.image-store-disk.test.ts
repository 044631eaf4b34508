// A zone of the image store has its upper layer (and its Volumes) on a disk
// of --disk; update --disk grows that disk's filesystem and df in the zone
// shows it: online while the zone runs (where the kernel lets lxzone resize
// a mounted ext4; kept through reboot), else from the next boot (as update
// says: a reboot, although a zone on the host's root started while the
// disk was mounted still runs, since no other zone's mount namespace keeps
// a copy of the disk's mount), and grown while halted for the next boot; it
// never shrinks. The image is
// imported into the store from a tar (no registry needed: the pull is
// test/80.lifecycle.image-store's). Split from that file: its zones' boots
// and halts are most of a lifecycle file's time under load.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxImage } from './support/zones.js';

const tmp: string[] = [];
// The CLI and the daemon it starts as built: ~20 CLI calls from source cost seconds of CPU each under load (builtCliEntry).
const env = useLifecycleEnv(46, {
  builtCli: true,
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const MiB = 1024 * 1024;

/**
 * `lxzone ARGS`, which must succeed, given time: under load a create with
 * its pull outlasts runCli's 30 s default, and so does a stop, which waits
 * (bounded) until no mount namespace holds the zone's disk any more (other
 * tests' namespaces copy its mount: docs/parts/network-cgroups.md).
 */
async function slowOk(args: string[]): Promise<string> {
  const r = await env.cli(args, { timeoutMs: 150_000 });
  expect(r.code, `lxzone ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

it("a store zone's disk grows with update --disk: df in the zone shows it (online, or from the next boot as said), through reboot and halt/boot; never shrinks", async () => {
  const ref = 'local/disk:v1';
  expect(await slowOk(['image', 'import', makeBusyboxImage(46, tmp), ref])).toMatch(/^imported /);
  // Every boot: the root's size as df sees it, then whether 40 MiB fit.
  const script = [
    "busybox df -k / | busybox tail -1 | busybox awk '{print \"size\", $2}'",
    'busybox dd if=/dev/zero of=/root/f bs=1M count=40 2>/dev/null; echo dd=$?; busybox rm -f /root/f',
    'busybox sleep 600',
  ].join('; ');
  await slowOk(['create', 'sd', '--image', ref, '--disk', '32m', '--network', 'none', '-u', '0', '--', '/bin/sh', '-c', script]);
  const cfg = JSON.parse(readFileSync(join(env.stateDir, 'zones/sd/config.json'), 'utf8')) as { rootfs: { type: string } };
  expect(cfg.rootfs.type).toBe('store');
  const image = join(env.stateDir, 'zones/sd/disk.img');
  expect(statSync(image).size).toBe(32 * MiB);
  const released = () => execFileSync('losetup', ['-n', '-O', 'NAME', '-j', image]).toString().trim() === '';
  const log = join(env.stateDir, 'zones/sd/logs/stdout.log');
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  const stderrLog = () => (existsSync(join(env.stateDir, 'zones/sd/logs/stderr.log')) ? readFileSync(join(env.stateDir, 'zones/sd/logs/stderr.log'), 'utf8') : '');
  const kib = (line: string | undefined) => Number(line?.split(' ')[1]);
  const boots = async (n: number) => expect(await waitFor(() => lines().length >= 2 * n, 120_000), `boot ${n} reported; the zone's stderr: ${stderrLog()}`).toBe(true);
  await slowOk(['boot', 'sd']);
  await boots(1);
  // A zone on the host's root started while sd's disk is mounted: its mount
  // namespaces are copies of the host's, and must not keep sd's disk alive.
  await slowOk(['create', 'holder', '--network', 'none', '--', '/bin/sleep', '600']);
  await slowOk(['boot', 'holder']);
  expect(kib(lines()[0])).toBeLessThanOrEqual(32 * 1024);
  expect(lines()[1]).toBe('dd=1'); // 40 MiB do not fit on 32

  const grow = await env.cli(['update', 'sd', '--disk', '64m'], { timeoutMs: 150_000 });
  expect(grow.code).toBe(0);
  expect(statSync(image).size).toBe(64 * MiB);
  const live = async () => Number((await slowOk(['exec', 'sd', '--', '/bin/busybox', 'df', '-k', '/'])).trim().split('\n').pop()!.split(/\s+/)[1]);
  if (/grew online/.test(grow.stderr)) {
    expect(grow.stderr).toBe('lxzone: zone sd: its disk grew online to 67108864 bytes; df in the zone shows it now\n');
    expect(await live()).toBeGreaterThan(50 * 1024);
  } else {
    expect(grow.stderr).toBe('lxzone: zone sd: its disk grows to 67108864 bytes at its next boot (it cannot grow while mounted: that needs CAP_SYS_RESOURCE, which lxzone does not have here, or a growth past the 128x its filesystem reserved for online resizing)\n');
    expect(await live()).toBeLessThanOrEqual(32 * 1024);
  }
  const shrink = await env.cli(['update', 'sd', '--disk', '48m'], { timeoutMs: 150_000 });
  expect(shrink.code).toBe(1);
  expect(shrink.stderr).toContain('a disk cap can only grow');
  expect(statSync(image).size).toBe(64 * MiB);

  // reboot (the zone's disk is unmounted and mounted again, grown offline
  // if it could not grow online): the new size, with the host-root zone
  // (booted while the disk was mounted) still running.
  await slowOk(['reboot', 'sd']);
  await boots(2);
  expect(kib(lines()[2])).toBeGreaterThan(50 * 1024);
  expect(lines()[3]).toBe('dd=0');

  // Halted: the image grows now, its filesystem by the next boot (at once, or
  // at the mount when another namespace still held it), which sees it.
  await slowOk(['halt', 'sd']);
  // No other zone's mount namespace holds a copy of the disk's mount (the
  // host-root zone's root, its UTS sysctl server's namespace): once the
  // zone's own namespace is gone, nothing backs the disk.
  expect(await waitFor(released, 60_000, 500), 'no namespace holds the halted zone\'s disk').toBe(true);
  expect((await env.inspect('holder')).state).toBe('running');
  const halted = await env.cli(['update', 'sd', '--disk', '96m'], { timeoutMs: 150_000 });
  expect(halted.stderr).toBe('lxzone: zone sd: its disk grew to 100663296 bytes; the zone sees it at its next boot\n');
  expect(statSync(image).size).toBe(96 * MiB);
  await slowOk(['boot', 'sd']);
  await boots(3);
  expect(kib(lines()[4])).toBeGreaterThan(80 * 1024);
  expect(lines()[5]).toBe('dd=0');
  await slowOk(['destroy', '--force', 'sd']);
  await slowOk(['destroy', '--force', 'holder']);
  expect(existsSync(image)).toBe(false);
  await slowOk(['rmi', ref]);
}, 400_000);
