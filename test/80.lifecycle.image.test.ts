// A zone from an image: unpacked once at create into the zone's own host id
// range, its root writable by the zone and kept across boots; another zone
// gets another range; destroy removes the copy and gives the range back.
import { readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxImage } from './support/zones.js';

const tmp: string[] = [];
const env = useLifecycleEnv(85, {
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const { ok } = env;

it('an image zone owns its unpacked root, in a host id range of its own, kept across boots', async () => {
  const archive = makeBusyboxImage(85, tmp);

  const script = 'echo $(cat /root/count 2>/dev/null)x > /root/count; id -u; cat /root/count; sleep 600';
  for (const n of ['img1', 'img2']) await ok(['create', n, '--image', archive, '--network', 'none', '--', '/bin/sh', '-c', script]);
  const ids = (n: string) => JSON.parse(readFileSync(join(env.stateDir, 'zones', n, 'ids.json'), 'utf8')) as { idBase: number };
  const [a, b] = [ids('img1').idBase, ids('img2').idBase];
  expect(a).not.toBe(b);
  expect(a % 65536).toBe(100000 % 65536);
  // The unpacked root belongs to the zone's root, in its range.
  const rootfs = join(env.stateDir, 'zones', 'img1', 'rootfs');
  expect(statSync(join(rootfs, 'bin', 'busybox')).uid).toBe(a);

  await ok(['boot', 'img1']);
  const log = join(env.stateDir, 'zones', 'img1', 'logs', 'stdout.log');
  await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2);
  expect(readFileSync(log, 'utf8')).toBe('0\nx\n');
  expect(statSync(join(rootfs, 'root', 'count')).uid).toBe(a);
  await ok(['reboot', 'img1']);
  await waitFor(() => readFileSync(log, 'utf8').includes('xx'));
  expect(readFileSync(log, 'utf8')).toBe('0\nx\n0\nxx\n');

  await ok(['destroy', '--force', 'img1']);
  expect(existsSync(rootfs)).toBe(false);
  // Its range is free for the next zone.
  await ok(['create', 'img3', '--image', archive, '--network', 'none', '--', '/bin/true']);
  expect(ids('img3').idBase).toBe(a);
});
