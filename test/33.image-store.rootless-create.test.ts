// A named zone of the image store as an unprivileged host user (a real
// user made by useradd): create --image REF and boot, the zone's writes
// kept across boots in an upper layer in its state directory (no disk image
// without root), never in the store's shared layers; the zone holds its
// image until destroyed, and destroy leaves nothing of it. The user's store
// and the attacks on it: test/33.image-store.rootless.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import type { HostUser } from './support/host-user.js';
import { waitFor } from './support/lifecycle-env.js';
import { describeWithRegistry } from './support/registry.js';
import { as, home, storeOf, useRootlessStore } from './support/rootless-store.js';

describeWithRegistry('a named image store zone as an unprivileged user', () => {
  const ctx = useRootlessStore(['lxzrc']);
  let alice: HostUser;
  let ref: string;
  beforeAll(() => {
    [alice] = ctx.users as [HostUser];
    ref = ctx.ref;
  });

  it('create --image and boot: the zone\'s writes kept across boots in its state directory, all gone at destroy', async () => {
    expect((await as(alice, ['pull', '--quiet', ref])).code).toBe(0); // create would pull it, and say so on stderr
    const made = await as(alice, ['create', 'rz', '--image', ref, '--', '/bin/sh', '-c', 'cat /kept 2>/dev/null || echo first; echo kept > /kept']);
    expect(made.stderr).toBe(`lxzone: image ${ref}: its User app is not taken: a rootless zone has one user, its root (you), which runs the process\n`);
    expect(made.code).toBe(0);
    const stopped = async () => (JSON.parse((await as(alice, ['list', '--json'])).stdout) as { name: string; state: string }[]).find((z) => z.name === 'rz')?.state === 'stopped';
    try {
      for (let i = 0; i < 2; i++) {
        const b = await as(alice, ['boot', 'rz']);
        expect(b.stderr).toMatch(/^(lxzone: warning: .*\n)?$/);
        expect(b.code).toBe(0);
        expect(await waitFor(stopped, 60_000, 200)).toBe(true);
      }
      expect((await as(alice, ['logs', 'rz'])).stdout).toBe('first\nkept\n');
      // The upper layer is in the zone's own directory; no layer of the store has the file.
      const zoneDir = join(home(alice), '.local/share/lxzone/zones/rz');
      expect(readFileSync(join(zoneDir, 'cow/upper/kept'), 'utf8')).toBe('kept\n');
      const layers = join(storeOf(alice), 'layers');
      for (const d of readdirSync(layers)) expect(existsSync(join(layers, d, 'kept'))).toBe(false);
      // The zone holds its image until destroyed.
      const rmi = await as(alice, ['rmi', ref]);
      expect(rmi.stderr).toBe(`lxzone: image ${ref} is in use by zone rz (destroy it first)\n`);
      expect((await as(alice, ['destroy', 'rz'])).code).toBe(0);
      expect(existsSync(zoneDir)).toBe(false);
      expect((await as(alice, ['rmi', ref])).code).toBe(0);
    } finally {
      await as(alice, ['daemon', 'stop', '--halt-zones']);
    }
  }, 180_000);

}, { shim: true });
