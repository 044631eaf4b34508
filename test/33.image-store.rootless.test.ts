// Zones of the image store as an unprivileged host user (real users made by
// useradd, as on any host): the user pulls into a store of their own (under
// their state directory, 0700 theirs), whose layers are unpacked with every
// file theirs and overlayfs's markers as user.overlay.* (trusted.* is
// root's), and the shim mounts the overlay with `userxattr` inside the
// zone's user namespace, the layers read-only and never id-mapped. Then the
// attacks: the zone's writes never reach a layer; another user cannot read
// the store; the user cannot reach root's store (whose layers root's zones
// share). A named zone's create, boots and destroy as the user:
// test/33.image-store.rootless-create (split off to keep each file quick).
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import type { HostUser } from './support/host-user.js';
import { describeWithRegistry } from './support/registry.js';
import { as, home, nodeAs, snapshot, storeOf, useRootlessStore } from './support/rootless-store.js';

describeWithRegistry('image store zones as an unprivileged user', () => {
  const ctx = useRootlessStore(['lxzra', 'lxzrb']);
  let alice: HostUser;
  let bob: HostUser;
  let ref: string;
  beforeAll(() => {
    [alice, bob] = ctx.users as [HostUser, HostUser];
    ref = ctx.ref;
  });

  it('pulls and runs an image: the merged layers (whiteout, opaque directory) in its own store, writes in its own upper layer only', async () => {
    const pulled = await as(alice, ['pull', '--quiet', ref]);
    expect(pulled.stderr).toBe('');
    expect(pulled.code).toBe(0);
    // The image's Cmd, Env and WorkingDir; its User (app) cannot be given in a rootless zone, which says so.
    const cmd = await as(alice, ['run', '--image', ref]);
    expect(cmd.stderr).toBe(`lxzone: warning: image ${ref}: its User app is not taken: a rootless zone has one user, its root (you), which runs the process\n`);
    expect(cmd.stdout).toBe('hello from the image\n/home/app\n0\n');
    expect(cmd.code).toBe(0);

    const layers = join(storeOf(alice), 'layers');
    const dirs = readdirSync(layers).filter((d) => !d.startsWith('.'));
    expect(dirs).toHaveLength(2);
    // Every file the user's; the store out of everyone else's reach.
    for (const d of dirs) expect(snapshot(join(layers, d)).every((l) => l.split(' ')[1] === String(alice.uid))).toBe(true);
    expect(statSync(join(home(alice), '.local/share/lxzone')).mode & 0o077).toBe(0);
    const before = dirs.map((d) => snapshot(join(layers, d)));

    // The zone's root (the user) writes over, deletes and re-modes the layers' files, and looks for the layers' mounts.
    const script = [
      'ls /opt/old', // opaque in the upper layer: only its own file
      'cat /etc/gone 2>/dev/null || echo gone', // whited out
      'cat /etc/motd',
      'echo written > /etc/new && cat /etc/new',
      'rm /etc/motd && ls /etc',
      'echo evil >> /etc/passwd; busybox chmod 777 /opt/old; busybox chmod 700 /bin/busybox; rm -rf /home',
      'stat -c "%u %a" /bin/busybox',
      'ls /cow-lower-0 2>&1',
      'id -u',
    ].join('; ');
    const r = await as(alice, ['run', '-u', '0', '-w', '/', '--image', ref, '--', '/bin/sh', '-c', script]);
    expect(r.stderr).toBe('');
    // The layers are mounted from the zone's private scratch root, gone from its view after pivot_root.
    expect(r.stdout).toBe('new\ngone\nupper layer\nwritten\ngroup\nnew\npasswd\n0 700\nls: /cow-lower-0: No such file or directory\n0\n');
    expect(r.code).toBe(0);
    // The shared layers are exactly as they were, and the next zone sees the image pristine.
    expect(dirs.map((d) => snapshot(join(layers, d)))).toEqual(before);
    const again = await as(alice, ['run', '-u', '0', '--image', ref, '--', '/bin/sh', '-c', 'cat /etc/motd; busybox grep -c evil /etc/passwd; ls -d /home; stat -c %a /bin/busybox']);
    expect(again.stdout).toBe('upper layer\n0\n/home\n755\n');
  }, 180_000);

  it('another user can neither read the store nor use it; the user cannot reach root\'s store', async () => {
    expect((await as(alice, ['pull', '--quiet', ref])).code).toBe(0);
    const blob = readdirSync(join(storeOf(alice), 'blobs/sha256'))[0]!;
    const target = join(storeOf(alice), 'blobs/sha256', blob);
    const peek = await nodeAs(bob, `try { require('fs').readFileSync(${JSON.stringify(target)}); console.log('read'); } catch (e) { console.log(e.code); }
try { require('fs').readdirSync(${JSON.stringify(storeOf(alice))}); console.log('listed'); } catch (e) { console.log(e.code); }`);
    expect(peek.stdout).toBe('EACCES\nEACCES\n');
    // Pointed at alice's state directory, bob's lxzone stops with an error, and changes nothing there.
    const before = snapshot(storeOf(alice));
    const theirs = await as(bob, ['run', '--image', ref, '--', '/bin/true'], { LXZONE_STATE_DIR: join(home(alice), '.local/share/lxzone') });
    expect(theirs.stderr).toBe(`lxzone: ${home(alice)}/.local is owned by uid ${alice.uid}; refusing to use it for lxzone's state (another user could control it)\n`);
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).not.toMatch(/\n\s+at /);
    expect(snapshot(storeOf(alice))).toEqual(before);

    // Root's store: its layers are shared by root's zones of every user; no user may open them.
    const rootState = join(ctx.work, 'root-state');
    const store = new ImageStore({ stateDir: rootState, runtimeDir: join(ctx.work, 'root-run') });
    const { pullImage } = await import('../src/zone/image/registry/pull.js');
    const { parseImageRef } = await import('../src/zone/image/store/reference.js');
    const rec = await pullImage(store, parseImageRef(ref));
    const rootLayer = store.layers.path(rec.layers[0]!.digest);
    execFileSync('chmod', ['755', ctx.work]); // the way there is open: only the store's own modes stand in the way
    const write = await nodeAs(alice, `try { require('fs').writeFileSync(${JSON.stringify(join(rootLayer, 'bin/busybox'))}, 'x'); console.log('written'); } catch (e) { console.log(e.code); }
try { require('fs').readdirSync(${JSON.stringify(rootLayer)}); console.log('listed'); } catch (e) { console.log(e.code); }`);
    expect(write.stdout).toBe('EACCES\nEACCES\n');
    const viaCli = await as(alice, ['run', '--image', ref, '--', '/bin/true'], { LXZONE_STATE_DIR: rootState });
    expect(viaCli.stderr).toBe(`lxzone: ${rootState} is owned by uid 0, not by us (uid ${alice.uid}); refusing to use it for lxzone's state (another user could control it)\n`);
    expect(viaCli.code).not.toBe(0);
    expect(viaCli.stderr).not.toMatch(/\n\s+at /);
    expect(store.layers.has(rec.layers[0]!.digest)).toBe(true);
  }, 180_000);
}, { shim: true });
