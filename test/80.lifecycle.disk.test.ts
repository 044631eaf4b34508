// The disk cap of an image zone (issue 7): its writable root lives in an ext4
// image of resources.diskBytes, mounted only while the zone runs; a write past
// the cap fails in the zone with ENOSPC and the host's disk is untouched; the
// cap grows on a running zone; the data is kept across boots; destroy leaves
// no file, mount or loop device.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxImage } from './support/zones.js';

const tmp: string[] = [];
const env = useLifecycleEnv(86, {
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const { ok } = env;
const MiB = 1024 * 1024;

/** CapEff has CAP_SYS_RESOURCE (24): what ext4's online resize wants. */
const hasCapSysResource = (): boolean => ((BigInt(`0x${/^CapEff:\s+(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n) === 1n;
const mounted = (target: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === target);
const loopsOf = (image: string): string => execFileSync('losetup', ['-n', '-O', 'NAME', '-j', image]).toString().trim();

it('an image zone with --disk has its root on a disk of that size: ENOSPC past it, kept across boots, gone on destroy', async () => {
  const archive = makeBusyboxImage(86, tmp);

  // First boot: mark the root; every boot: try to write twice the cap, report, and stay up.
  const script = [
    'if [ -e /root/mark ]; then echo second; else echo first; echo kept > /root/mark; fi',
    'busybox dd if=/dev/zero of=/root/big bs=1M count=64 2>/dev/null; echo dd=$?',
    'busybox rm -f /root/big',
    'busybox df -k / | busybox tail -1 | busybox awk \'{print "size", $2}\'',
    'sleep 600',
  ].join('; ');
  await ok(['create', 'capped', '--image', archive, '--disk', '32m', '--network', 'none', '--', '/bin/sh', '-c', script]);
  const zoneDir = join(env.stateDir, 'zones', 'capped');
  const image = join(zoneDir, 'disk.img');
  const mountpoint = join(zoneDir, 'disk');
  expect(statSync(image).size).toBe(32 * MiB);
  expect(existsSync(join(zoneDir, 'rootfs'))).toBe(false); // unpacked onto the disk, not beside it
  expect(mounted(mountpoint)).toBe(false); // mounted only while the zone runs
  expect(loopsOf(image)).toBe('');

  const log = join(zoneDir, 'logs', 'stdout.log');
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  await ok(['boot', 'capped']);
  await waitFor(() => lines().length >= 3);
  const [first, dd, size] = lines();
  expect(first).toBe('first');
  expect(dd).toBe('dd=1'); // ENOSPC at the cap
  const kib = Number(size!.split(' ')[1]);
  expect(kib).toBeGreaterThan(24 * 1024); // ext4's own overhead comes off the 32 MiB
  expect(kib).toBeLessThanOrEqual(32 * 1024);
  expect(mounted(mountpoint)).toBe(true);

  // The cap grows on the running zone (an online resize, which needs
  // CAP_SYS_RESOURCE: some sandboxes drop it, and the filesystem then grows
  // at the next boot, as the warning says), and never shrinks.
  const grow = await env.cli(['update', 'capped', '--disk', '48m']);
  expect(grow.code).toBe(0);
  expect(statSync(image).size).toBe(48 * MiB);
  const sizeKiB = async () => Number((await ok(['exec', 'capped', '--', 'busybox', 'df', '-k', '/'])).trim().split('\n').pop()!.split(/\s+/)[1]);
  if (hasCapSysResource()) {
    expect(grow.stderr).toBe('lxzone: zone capped: its disk grew online to 50331648 bytes; df in the zone shows it now\n');
    expect(await sizeKiB()).toBeGreaterThan(34 * 1024);
  } else {
    expect(grow.stderr).toContain('its disk grows to 50331648 bytes at its next boot');
  }
  const shrink = await env.cli(['update', 'capped', '--disk', '32m']);
  expect(shrink.code).toBe(1);
  expect(shrink.stderr).toContain('a disk cap can only grow');
  expect(JSON.parse(readFileSync(join(zoneDir, 'config.json'), 'utf8')).resources.diskBytes).toBe(48 * MiB);

  await ok(['halt', 'capped']);
  await waitFor(() => !mounted(mountpoint) && loopsOf(image) === '');
  expect(mounted(mountpoint)).toBe(false);

  await ok(['boot', 'capped']);
  await waitFor(() => lines().length >= 6);
  expect(lines().slice(3, 5)).toEqual(['second', 'dd=1']);
  expect(Number(lines()[5]!.split(' ')[1])).toBeGreaterThan(34 * 1024); // grown past the first 32 MiB, whichever way

  await ok(['destroy', '--force', 'capped']);
  expect(existsSync(zoneDir)).toBe(false);
  expect(mounted(mountpoint)).toBe(false);
  expect(execFileSync('losetup', ['-a']).toString()).not.toContain(zoneDir);
});

it('refuses a disk cap too small for a filesystem, and leaves nothing', async () => {
  const archive = makeBusyboxImage(86, tmp);
  const r = await env.cli(['create', 'tiny', '--image', archive, '--disk', '1m', '--network', 'none', '--', '/bin/true']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/resources\.diskBytes: 1048576 must be an integer number of bytes >= 16777216/);
  expect(existsSync(join(env.stateDir, 'zones', 'tiny'))).toBe(false);
});
