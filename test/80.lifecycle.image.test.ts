// A zone from an image file (`create --image FILE`): the file goes into the
// image store at the first create (src/zone/image/store/zone-import.ts) and
// every zone of it is made from the stored image, its layers shared and its
// writes its own (an upper layer on its disk), kept across boots; each zone
// has a host id range of its own and sees the image's files as its root's;
// the file may be deleted after create; destroy leaves the unnamed image
// to prune. (A second create of the same file, a changed file and the other
// kinds of image file: test/33.image-store.create-file, without boots.)
import { readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { createZone } from '../src/zone/lifecycle/api.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxImage } from './support/zones.js';

const tmp: string[] = [];
const env = useLifecycleEnv(85, {
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
/**
 * `lxzone ARGS`, which must succeed, given time: under load a boot that
 * starts the daemon, or a destroy that waits for the zone's disk, outlasts
 * runCli's 30 s default.
 */
async function ok(args: string[]): Promise<string> {
  const r = await env.cli(args, { timeoutMs: 150_000 });
  expect(r.code, `lxzone ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

// Read in-process (as `lxzone images --json` reads it), to keep the file quick.
const store = () => new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir });
const images = async () => store().list();
const rootfsOf = (n: string) => (JSON.parse(readFileSync(join(env.stateDir, 'zones', n, 'config.json'), 'utf8')) as { rootfs: { type: string; ref?: string; digest?: string } }).rootfs;

it('zones of an image file share it from the image store, each in its own id range with its own writes kept across boots; the file may go', async () => {
  const archive = makeBusyboxImage(85, tmp);

  const script = 'echo $(cat /root/count 2>/dev/null)x > /root/count; id -u; busybox stat -c %u /bin/busybox; cat /root/count; sleep 600';
  await ok(['create', 'img1', '--image', archive, '--network', 'none', '--', '/bin/sh', '-c', script]);
  // The second in-process (createZone: the route the CLI takes), to keep the file quick.
  await createZone({ name: 'img2', rootfs: { type: 'image', path: archive }, network: { mode: 'none' }, command: ['/bin/sh', '-c', script] });
  const ids = (n: string) => JSON.parse(readFileSync(join(env.stateDir, 'zones', n, 'ids.json'), 'utf8')) as { idBase: number };
  const [a, b] = [ids('img1').idBase, ids('img2').idBase];
  expect(a).not.toBe(b);
  expect(a % 65536).toBe(100000 % 65536);

  // One image in the store, with no name of its own (a plain rootfs tar has none): listed by its id, used by both zones.
  const [img, ...more] = await images();
  expect(more).toEqual([]);
  expect(img!.refs).toEqual([]);
  expect(img!.users).toEqual(['img1', 'img2']);
  expect(img!.source).toBe(archive);
  expect(rootfsOf('img1')).toEqual({ type: 'store', ref: img!.config.slice(7, 19), digest: img!.digest });
  expect(rootfsOf('img2')).toEqual(rootfsOf('img1'));
  // Nothing unpacked into either zone: its directory holds its config, disk and records only.
  for (const n of ['img1', 'img2']) expect(existsSync(join(env.stateDir, 'zones', n, 'rootfs'))).toBe(false);
  const layers = readdirSync(join(env.stateDir, 'images', 'layers')).filter((f) => /^[a-f0-9]{64}$/.test(f));
  expect(layers).toHaveLength(1);

  // The file is not needed once the zone is created.
  rmSync(archive);
  await ok(['boot', 'img1']);
  const log = join(env.stateDir, 'zones', 'img1', 'logs', 'stdout.log');
  await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 3);
  // The zone's root owns the image's files (the shared layer, id-mapped onto its range).
  expect(readFileSync(log, 'utf8')).toBe('0\n0\nx\n');
  await ok(['reboot', 'img1']);
  await waitFor(() => readFileSync(log, 'utf8').includes('xx'));
  expect(readFileSync(log, 'utf8')).toBe('0\n0\nx\n0\n0\nxx\n');
  // Its writes are its own: the shared layer has no /root/count.
  expect(existsSync(join(env.stateDir, 'images', 'layers', layers[0]!, 'root', 'count'))).toBe(false);

  await ok(['destroy', '--force', 'img1']);
  expect(existsSync(join(env.stateDir, 'zones', 'img1'))).toBe(false);
  expect((await images())[0]!.users).toEqual(['img2']);
  await ok(['destroy', '--force', 'img2']);
  // Unnamed and unused: prune takes it, with its blobs and layer.
  expect((await store().locked('test', () => store().prune())).images).toEqual([img!.digest]);
  expect(await images()).toEqual([]);
  expect(readdirSync(join(env.stateDir, 'images', 'layers'))).toEqual([]);
}, 400_000);
