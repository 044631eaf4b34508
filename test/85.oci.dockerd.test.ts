// dockerd (Debian's docker.io 20.10) runs `docker run --runtime lxzone`
// containers, as gVisor documents for runsc: a dockerd of this test's own
// (its --data-root, --exec-root, unix socket and daemon.json under one temp
// dir; no iptables, no bridge, its containerd its own child) with
// lxzone-runc registered as the runtime "lxzone" (runtimeArgs: the uname
// release). The only place a dockerd is started: lxzone's own Docker API
// tests never start one. It loads an image archive built here, runs it with
// --runtime lxzone and checks from inside that it ran in a zone; then
// exec's into a detached one, removes it, stops the daemon and checks that
// nothing is left.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cgroupName } from '../src/oci/container.js';
import { expectNoLeaks, leakSnapshot, type LeakSnapshot } from './support/leaks.js';
import { makeImageArchive } from './support/oci-image.js';
import { HostDirsWeMake, PrivateDaemon, run, runcWrapper, type CmdResult } from './support/private-daemon.js';
import { staleBuild } from './support/runtime-tools.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { ownTempDir } from './support/zones.js';

const IMAGE = 'lxzone.test/busybox:1';
const RELEASE = '5.10.0-lxzone-docker';
const DOCKER = '/usr/bin/docker'; // Debian's client, the daemon's own version

function missingTools(): string | undefined {
  if (!existsSync('/usr/sbin/dockerd') || !existsSync(DOCKER)) return 'dockerd or its client is not installed (apt-get install docker.io)';
  return staleBuild();
}

const links = (): string[] => execFileSync('ip', ['-o', 'link', 'show']).toString().split('\n').map((l) => l.split(':')[1]?.trim() ?? '').filter(Boolean);

describeUnless(rootOnly() ?? missingTools(), 'dockerd runs docker run --runtime lxzone containers', () => {
  let work: string;
  // Short: lxzone-runc's exec sockets are <exec-root>/runtime-runc/moby/<64-hex id>/<a short random name>, at most 107 bytes (sun_path).
  let execRoot: string;
  let daemon: PrivateDaemon;
  let before: LeakSnapshot;
  let linksBefore: string[];
  const ids: string[] = [];
  const hostDirs = new HostDirsWeMake(['/run/docker', '/run/docker/plugins', '/run/containerd', '/run/containerd/s']);
  const docker = (args: string[], timeoutMs = 90_000): Promise<CmdResult> =>
    run(DOCKER, ['-H', `unix://${work}/d.sock`, ...args], { timeoutMs, env: { ...process.env, DOCKER_CONFIG: join(work, 'client') } });

  beforeAll(async () => {
    work = ownTempDir(mkdtempSync('/tmp/lxz85dkd-'));
    execRoot = ownTempDir(mkdtempSync('/tmp/lx-'));
    mkdirSync(join(work, 'client'));
    const runc = runcWrapper(work);
    writeFileSync(
      join(work, 'daemon.json'),
      JSON.stringify({
        // Its trust key would go to /etc/docker/key.json otherwise.
        'deprecated-key-path': join(work, 'key.json'),
        runtimes: { lxzone: { path: runc, runtimeArgs: ['--kernel-version', RELEASE] } },
      }),
    );
    linksBefore = links();
    before = leakSnapshot();
    daemon = new PrivateDaemon('dockerd', join(work, 'dockerd.log'));
    daemon.start('dockerd', [
      '--config-file', join(work, 'daemon.json'),
      '--data-root', join(work, 'data'),
      '--exec-root', execRoot,
      '--pidfile', join(work, 'd.pid'),
      '-H', `unix://${work}/d.sock`,
      '--iptables=false', '--ip6tables=false', '--ip-masq=false', '--bridge=none', '--userland-proxy=false',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
    ]);
    await daemon.waitReady(async () => existsSync(join(work, 'd.sock')) && (await docker(['version'], 10_000)).code === 0, 90_000);
    const loaded = await docker(['load', '-i', makeImageArchive(work, IMAGE)]);
    expect(loaded.code, loaded.stderr).toBe(0);
  }, 150_000);

  afterAll(async () => {
    if (!work) return;
    if (daemon?.running) for (const id of ids) await docker(['rm', '-f', id]);
    await daemon?.stop(30_000);
    for (const dir of [work, execRoot]) {
      for (const m of execFileSync('sh', ['-c', `grep -o ' ${dir}/[^ ]*' /proc/self/mountinfo || true`]).toString().trim().split('\n').filter(Boolean).reverse()) {
        execFileSync('umount', ['-l', m.trim()], { stdio: 'ignore' });
      }
      rmSync(dir, { recursive: true, force: true });
    }
    hostDirs.cleanup();
  }, 60_000);

  it('docker run --runtime lxzone: a zone (seccomp filter, uname release, hostname), its exit status', async () => {
    const r = await docker(['run', '--rm', '--runtime', 'lxzone', '--network', 'none', '--hostname', 'dockzone', IMAGE, '/bin/sh', '-c', 'grep Seccomp: /proc/self/status; uname -r; hostname; exit 5']);
    expect(r.stderr).toBe('');
    const [seccomp, release, name] = r.stdout.trim().split('\n');
    expect(seccomp).toMatch(/^Seccomp:\s+2$/);
    expect(release).toBe(RELEASE); // lxzone's uname answer (runtimeArgs --kernel-version)
    expect(name).toBe('dockzone');
    expect(r.code).toBe(5);
  });

  it('docker run -d, exec, rm -f: the exec is in the container\'s zone', async () => {
    const started = await docker(['run', '-d', '--runtime', 'lxzone', '--network', 'none', IMAGE, '/bin/sleep', '300']);
    expect(started.code, started.stderr).toBe(0);
    const id = started.stdout.trim();
    ids.push(id);
    const inspect = JSON.parse((await docker(['inspect', id])).stdout)[0];
    expect(inspect.HostConfig.Runtime).toBe('lxzone');
    // The pid docker knows (the keeper's, which its network hook gets) is in the zone's network namespace, not the host's.
    const keeperNet = readlinkSync(`/proc/${inspect.State.Pid as number}/ns/net`);
    expect(keeperNet).not.toBe(readlinkSync('/proc/self/ns/net'));
    const x = await docker(['exec', id, '/bin/sh', '-c', 'grep Seccomp: /proc/self/status; uname -r; ls -l /proc/self/ns/net; exit 4']);
    expect(x.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^Seccomp:\s+2$/), RELEASE, expect.stringContaining(`-> ${keeperNet}`)]);
    expect(x.code).toBe(4);
    const rm = await docker(['rm', '-f', id]);
    expect(rm.code, rm.stderr).toBe(0);
    expect((await docker(['ps', '-aq'])).stdout.trim()).toBe('');
  });

  it('nothing is left once dockerd stops: processes, mounts, cgroups, links', async () => {
    await daemon.stop(30_000);
    const ours = ids.map(cgroupName);
    await expectNoLeaks(before, {
      timeoutMs: 15_000,
      skip: ['fds', 'files', 'links'], // links: checked below (other test files make lxz* links meanwhile)
      scope: {
        cgroups: (c) => ours.some((o) => c.includes(o)),
        // Never a bare 'containerd' or 'docker': test/85.oci.containerd's mounts (its work dir, its
        // containerd's) would count while that file runs beside this one. /run/docker/netns is dockerd's own.
        mounts: (m) => m.includes(work) || m.includes(execRoot) || m.startsWith('/run/docker/'),
      },
    });
    // dockerd's cgroup parent is /docker (cgroupfs driver): the container's own cgroup under it must be gone.
    const left = execFileSync('sh', ['-c', `for id in ${ids.join(' ')}; do ls -d /sys/fs/cgroup/*/docker/$id /sys/fs/cgroup/docker/$id 2>/dev/null; done; true`]).toString().trim();
    expect(left).toBe('');
    expect(links().filter((l) => !linksBefore.includes(l) && !/^(lxz|lxp|veth)/.test(l))).toEqual([]);
    for (const dir of [work, execRoot]) rmSync(dir, { recursive: true, force: true });
    expect(existsSync(work) || existsSync(execRoot)).toBe(false);
  }, 60_000);
});
