// Zones of the image store as an unprivileged host user (real users made by
// useradd, as on any host): the user pulls into a store of their own (under
// their state directory, 0700 theirs), whose layers are unpacked with every
// file theirs and overlayfs's markers as user.overlay.* (trusted.* is
// root's), and the shim mounts the overlay with `userxattr` inside the
// zone's user namespace, the layers read-only and never id-mapped. Then the
// attacks: the zone's writes never reach a layer; another user cannot read
// the store; the user cannot reach root's store (whose layers root's zones
// share).
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { addHostUser, type HostUser } from './support/host-user.js';
import { waitFor } from './support/lifecycle-env.js';
import { runNodeAs } from './support/nobody.js';
import { busyboxRoot, describeWithRegistry, ociLayout, push, startRegistry, upperLayer, type Registry } from './support/registry.js';

let work: string;
let reg: Registry;
let ref: string;
let alice: HostUser;
let bob: HostUser;
const home = (u: HostUser) => `/home/${u.name}`;
const storeOf = (u: HostUser) => join(home(u), '.local/share/lxzone/images');

/** `lxzone ARGS` as the user, in their own home (their default state directory). */
function as(u: HostUser, args: string[], env: Record<string, string> = {}) {
  return runNodeAs(u, (root) => [join(root, 'test/support/cli-entry.ts'), ...args], {
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home(u), XDG_RUNTIME_DIR: join(home(u), 'run'), ...env },
  });
}

/** Node code as the user: prints what it finds. */
function nodeAs(u: HostUser, code: string) {
  return runNodeAs(u, () => ['-e', code], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home(u) } });
}

/** Every file under `dir` with its owner, mode and content (what a zone must not change). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p.slice(dir.length)} ${st.uid} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p).toString('base64') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

describeWithRegistry('image store zones as an unprivileged user', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33rl-'));
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1');
    reg = await startRegistry(work);
    ref = `${reg.host}/rootless:v1`;
    push(join(work, 'oci'), 'v1', ref);
    alice = addHostUser('lxzra');
    bob = addHostUser('lxzrb');
  }, 120_000);

  // Long enough for two CLI calls on a loaded host: a hook cut short left the users behind.
  afterAll(async () => {
    try {
      for (const u of [alice, bob]) {
        if (!u) continue;
        try {
          await as(u, ['daemon', 'stop', '--halt-zones']);
        } finally {
          u.remove();
        }
      }
    } finally {
      await reg?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);

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

  it('create --image and boot: the zone\'s writes kept across boots in its state directory, all gone at destroy', async () => {
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
    const rootState = join(work, 'root-state');
    const store = new ImageStore({ stateDir: rootState, runtimeDir: join(work, 'root-run') });
    const { pullImage } = await import('../src/zone/image/registry/pull.js');
    const { parseImageRef } = await import('../src/zone/image/store/reference.js');
    const rec = await pullImage(store, parseImageRef(ref));
    const rootLayer = store.layers.path(rec.layers[0]!.digest);
    execFileSync('chmod', ['755', work]); // the way there is open: only the store's own modes stand in the way
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
