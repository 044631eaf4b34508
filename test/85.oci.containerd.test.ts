// containerd (Debian's 1.6) runs an image with lxzone through the stock runc
// shim (io.containerd.runc.v2, `ctr run --runc-binary`): a containerd of this
// test's own (its root, state, sockets and config under one temp dir; the
// host's containerd, if any, is never touched) imports an image archive
// built here (no registry), runs it, execs into it, kills and deletes it.
// From inside: the zone's seccomp filter, the uname release lxzone reports,
// the zone's hostname. Afterwards nothing is left: no process, mount or cgroup,
// no runtime state, no shim socket, and containerd's state goes with its dir.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupName } from '../src/oci/container.js';
import { expectNoLeaks, leakSnapshot, type LeakSnapshot } from './support/leaks.js';
import { makeImageArchive } from './support/oci-image.js';
import { waitFor } from './support/oci.js';
import { HostDirsWeMake, PrivateDaemon, run, runcWrapper, shimSocket, type CmdResult } from './support/private-daemon.js';
import { staleBuild } from './support/runtime-tools.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { ownTempDir } from './support/zones.js';

const IMAGE = 'lxzone.test/busybox:1';
const RELEASE = '5.10.0-lxzone-ctr';
const IDS = ['c-rm', 'c-d', 'c-f', 'c-f2'];

function missingTools(): string | undefined {
  for (const t of ['containerd', 'ctr', 'containerd-shim-runc-v2']) {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
    } catch {
      return `${t} is not installed (apt-get install containerd)`;
    }
  }
  return staleBuild();
}

describeUnless(rootOnly() ?? missingTools(), 'containerd runs containers with lxzone-runc (runc shim v2)', () => {
  let work: string;
  let daemon: PrivateDaemon;
  let runc: string;
  let runcRoot: string;
  let before: LeakSnapshot;
  const hostDirs = new HostDirsWeMake(['/run/containerd', '/run/containerd/s']);
  const ctr = (args: string[], timeoutMs = 60_000): Promise<CmdResult> => run('ctr', ['--address', join(work, 'c.sock'), ...args], { timeoutMs });
  const runFlags = (): string[] => ['--fifo-dir', join(work, 'fifo'), '--runc-binary', runc, '--runc-root', runcRoot, '--annotation', `org.lxzone.kernel-version=${RELEASE}`];

  beforeAll(async () => {
    work = ownTempDir(mkdtempSync('/tmp/lxz85ctd-'));
    runcRoot = join(work, 'runc');
    mkdirSync(join(work, 'fifo'));
    runc = runcWrapper(work);
    writeFileSync(
      join(work, 'config.toml'),
      [
        'version = 2',
        `root = "${work}/root"`,
        `state = "${work}/state"`,
        // Only what ctr needs: no CRI (test/85.oci.cri would start its own), no /opt/containerd.
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]',
        '[grpc]',
        `  address = "${work}/c.sock"`,
        '[ttrpc]',
        `  address = "${work}/c.ttrpc.sock"`,
        '[debug]',
        '  address = ""',
        '[metrics]',
        '  address = ""',
        '',
      ].join('\n'),
    );
    before = leakSnapshot({ dirs: [join(runcRoot, 'default')] });
    daemon = new PrivateDaemon('containerd', join(work, 'containerd.log'));
    daemon.start('containerd', ['--config', join(work, 'config.toml')]);
    await daemon.waitReady(async () => existsSync(join(work, 'c.sock')) && (await ctr(['version'], 10_000)).code === 0);
    const archive = makeImageArchive(work, IMAGE);
    const imported = await ctr(['image', 'import', archive]);
    expect(imported.code, imported.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (!work) return;
    // After a failed test: what it left in containerd (a stopped daemon has nothing to ask).
    if (daemon?.running) {
      for (const id of IDS) {
        await ctr(['task', 'rm', '-f', id]);
        await ctr(['container', 'rm', id]);
      }
    }
    await daemon?.stop();
    // containerd's overlay mounts are under its root; a daemon that died uncleanly may leave them.
    for (const m of execFileSync('sh', ['-c', `grep -o ' ${work}/[^ ]*' /proc/self/mountinfo || true`]).toString().trim().split('\n').filter(Boolean).reverse()) {
      execFileSync('umount', ['-l', m.trim()], { stdio: 'ignore' });
    }
    rmSync(work, { recursive: true, force: true });
    hostDirs.cleanup();
  }, 60_000);

  it('ctr run --rm: the container is a zone (seccomp filter, uname release, hostname) and its status is ctr\'s', async () => {
    const r = await ctr(['run', '--rm', ...runFlags(), IMAGE, 'c-rm', '/bin/sh', '-c', 'grep Seccomp: /proc/self/status; uname -r; hostname; exit 7']);
    expect(r.stderr).toBe('');
    const [seccomp, release, name] = r.stdout.trim().split('\n');
    expect(seccomp).toMatch(/^Seccomp:\s+2$/); // a filter: lxzone's (runc with this spec sets none)
    expect(release).toBe(RELEASE); // lxzone's uname answer, from the annotation
    expect(name).toBe('lxzone'); // the zone's own name; runc would leave the host's
    expect(name).not.toBe(hostname());
    expect(r.code).toBe(7);
    expect(readdirSync(join(runcRoot, 'default'))).toEqual([]);
  });

  it('run -d, exec, ps, kill, delete: each through the runc shim, the exit status from the shim\'s reaper', async () => {
    const started = await ctr(['run', '-d', ...runFlags(), IMAGE, 'c-d', '/bin/sh', '-c', 'trap "exit 42" TERM; while true; do sleep 0.1; done']);
    expect(started.code, started.stderr).toBe(0);
    const st = JSON.parse(execFileSync(runc, ['--root', runcRoot + '/default', 'state', 'c-d']).toString());
    expect(st.status).toBe('running');
    const x = await ctr(['task', 'exec', '--fifo-dir', join(work, 'fifo'), '--exec-id', 'x1', 'c-d', '/bin/sh', '-c', 'grep Seccomp: /proc/self/status; uname -r; hostname; exit 3']);
    expect(x.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^Seccomp:\s+2$/), RELEASE, 'lxzone']);
    expect(x.code).toBe(3);
    const ps = await ctr(['task', 'ps', 'c-d']);
    expect(ps.code).toBe(0);
    expect(ps.stdout).toContain(String(st.pid));
    const killed = await ctr(['task', 'kill', 'c-d']);
    expect(killed.code, killed.stderr).toBe(0);
    await waitFor('the task to stop', async () => / STOPPED/.test((await ctr(['task', 'ls'])).stdout), 30_000);
    const rm = await ctr(['task', 'rm', 'c-d']);
    expect(rm.code, rm.stderr).toBe(0);
    // The status the shim reaped from lxzone-runc's keeper: the trap's.
    expect(rm.stderr).toContain('exit code 42');
    expect((await ctr(['container', 'rm', 'c-d'])).code).toBe(0);
    expect(existsSync(join(runcRoot, 'default', 'c-d'))).toBe(false);
  });

  it('task rm -f of a running task and kill --all: runc delete --force and kill --all', async () => {
    const started = await ctr(['run', '-d', ...runFlags(), IMAGE, 'c-f', '/bin/sh', '-c', 'sleep 300 & sleep 300']);
    expect(started.code, started.stderr).toBe(0);
    const all = await ctr(['task', 'kill', '--all', '--signal', 'SIGKILL', 'c-f']);
    expect(all.code, all.stderr).toBe(0);
    await waitFor('the task to stop', async () => / STOPPED/.test((await ctr(['task', 'ls'])).stdout), 30_000);
    await ctr(['task', 'rm', 'c-f']);
    const again = await ctr(['run', '-d', ...runFlags(), IMAGE, 'c-f2', '/bin/sleep', '300']);
    expect(again.code, again.stderr).toBe(0);
    const forced = await ctr(['task', 'rm', '-f', 'c-f2']);
    expect(forced.code, forced.stderr).toBe(0);
    expect((await ctr(['container', 'rm', 'c-f'])).code).toBe(0);
    expect((await ctr(['container', 'rm', 'c-f2'])).code).toBe(0);
  });

  it('nothing is left: no process, mount or cgroup of ours, no runtime state, no shim socket', async () => {
    await daemon.stop();
    // Its runc root's namespace directory stays, as runc's does: what was in it must be gone.
    // Other test files run zones meanwhile: cgroups and mounts count when they are this file's containers'.
    const ours = IDS.map(cgroupName);
    await expectNoLeaks(before, {
      dirs: [join(runcRoot, 'default')],
      timeoutMs: 15_000,
      skip: ['fds', 'links'], // no links are made here; other test files make lxz* links meanwhile
      scope: {
        cgroups: (c) => ours.some((o) => c.includes(o)),
        // Its root and state are under work; a bare 'containerd' would count test/85.oci.dockerd's
        // containerd mounts while that file runs beside this one.
        mounts: (m) => m.includes(work),
      },
    });
    // containerd's cgroupsPath for ctr is /default/ID (leaks.ts lists lxzone's own cgroups only).
    const cgroupDirs = execFileSync('sh', ['-c', `for id in ${IDS.join(' ')}; do ls -d /sys/fs/cgroup/*/default/$id /sys/fs/cgroup/default/$id 2>/dev/null; done; true`]).toString().trim();
    expect(cgroupDirs).toBe('');
    // Our shims' sockets (named by a hash of our socket's address, namespace and id) went with them;
    // another test's containerd has its own there meanwhile.
    expect(IDS.map((id) => shimSocket(join(work, 'c.sock'), 'default', id)).filter((f) => existsSync(f))).toEqual([]);
    rmSync(work, { recursive: true, force: true });
    expect(existsSync(work)).toBe(false);
  }, 60_000);
});
