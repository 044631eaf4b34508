// An image's Volumes in a rootless zone of the image store (a real host
// user made by useradd): without root there is no zone disk to put them on,
// so each volume is a directory of the zone's own in its state directory
// (the user's), beside its upper layer cow/: seeded once from the image's
// layers, bound read-write at its path, kept across boots, not part of the
// overlay, gone when the zone is destroyed.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addHostUser, type HostUser } from './support/host-user.js';
import { waitFor } from './support/lifecycle-env.js';
import { runNodeAs } from './support/nobody.js';
import { busyboxRoot, describeWithRegistry, ociLayout, push, startRegistry, TEST_IMAGE_CONFIG, type Registry } from './support/registry.js';

let work: string;
let reg: Registry;
let ref: string;
let carol: HostUser;
const home = (u: HostUser) => `/home/${u.name}`;

/** `lxzone ARGS` as the user, in their own home (their default state directory). */
function as(u: HostUser, args: string[]) {
  return runNodeAs(u, (root) => [join(root, 'test/support/cli-entry.ts'), ...args], {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home(u), XDG_RUNTIME_DIR: join(home(u), 'run') },
  });
}

describeWithRegistry('image Volumes in a rootless zone', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33rv-'));
    busyboxRoot(join(work, 'l1'));
    mkdirSync(join(work, 'l2/data'), { recursive: true });
    writeFileSync(join(work, 'l2/data/seed'), 'seeded\n');
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'vol', false, { ...TEST_IMAGE_CONFIG, User: undefined, WorkingDir: '/', Volumes: { '/data': {} } });
    reg = await startRegistry(work);
    ref = `${reg.host}/rootless:vol`;
    push(join(work, 'oci'), 'vol', ref);
    carol = addHostUser('lxzrv');
  }, 120_000);

  // Long enough for a CLI call on a loaded host; the user goes even if it fails.
  afterAll(async () => {
    try {
      if (carol) {
        try {
          await as(carol, ['daemon', 'stop', '--halt-zones']);
        } finally {
          carol.remove();
        }
      }
    } finally {
      await reg?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

  it("a directory of the zone's own in its state directory, seeded from the image, kept across boots, not in the upper layer; gone at destroy", async () => {
    const script = 'cat /data/seed; cat /data/n 2>/dev/null || echo none; echo again > /data/n; busybox grep -c " /data " /proc/self/mounts';
    const made = await as(carol, ['create', 'rzv', '--image', ref, '--', '/bin/sh', '-c', script]);
    expect(made.code, made.stderr).toBe(0);
    const stopped = async () => (JSON.parse((await as(carol, ['list', '--json'])).stdout) as { name: string; state: string }[]).find((z) => z.name === 'rzv')?.state === 'stopped';
    const zoneDir = join(home(carol), '.local/share/lxzone/zones/rzv');
    for (let i = 0; i < 2; i++) {
      const b = await as(carol, ['boot', 'rzv']);
      expect(b.code, b.stderr).toBe(0);
      expect(await waitFor(stopped, 60_000, 200)).toBe(true);
    }
    // Seeded from the image, the zone's write kept across the boots, a mount of its own.
    expect((await as(carol, ['logs', 'rzv'])).stdout).toBe('seeded\nnone\n1\nseeded\nagain\n1\n');
    const vol = join(zoneDir, 'volumes', encodeURIComponent('/data'));
    expect(readFileSync(join(vol, 'n'), 'utf8')).toBe('again\n');
    expect(statSync(join(vol, 'n')).uid).toBe(carol.uid);
    expect(existsSync(join(zoneDir, 'cow/upper/data'))).toBe(false);
    const inspect = JSON.parse((await as(carol, ['inspect', 'rzv'])).stdout) as { storeImage?: { volumes: { path: string; host: string }[] } };
    expect(inspect.storeImage?.volumes).toEqual([{ path: '/data', host: vol }]);
    expect((await as(carol, ['destroy', 'rzv'])).code).toBe(0);
    expect(existsSync(zoneDir)).toBe(false);
  }, 150_000);
});
