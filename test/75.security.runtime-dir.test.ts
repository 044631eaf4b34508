// Issue 14.12: runtime-directory squatting. Without XDG_RUNTIME_DIR a user's
// runtime directory is /tmp/lxzone-UID, a name any other user can take
// first; a fake daemon there would be trusted by the victim's CLI. The CLI
// now checks the directory (owner, mode, every directory above it), the
// socket file's owner, and who answers on it (SO_PEERCRED). Attacked by real
// host users: one made with useradd, and nobody as the victim.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { addHostUser, type HostUser } from './support/host-user.js';
import { NOBODY } from './support/nobody.js';
import { repoRoot, runCli } from './support/zones.js';

// A daemon impostor: answers every request with a zone list of its own and
// prints "connected" for each connection. Binds first, then (if told) drops
// to another uid before listen(): the socket file stays root's, but the
// process answering is that user (what SO_PEERCRED reports).
const FAKE_DAEMON = `
import json, os, socket, sys
path, uid = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o777)
if uid >= 0:
    os.setgroups([]); os.setgid(uid); os.setuid(uid)
s.listen(8)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    print("connected", flush=True)
    line = c.makefile().readline()
    if not line:
        c.close(); continue
    req = json.loads(line)
    c.sendall((json.dumps({"id": req["id"], "result": [{"name": "planted-by-attacker", "state": "running"}]}) + "\\n").encode())
    c.close()
`;

let attacker: HostUser;
const children: ChildProcess[] = [];
const dirs: string[] = [];

beforeAll(() => {
  attacker = addHostUser('lxzsq');
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
});
afterAll(async () => {
  await new Promise((r) => setTimeout(r, 100));
  attacker?.remove();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the CLI and a runtime directory another user prepared', () => {
  it("refuses /tmp/lxzone-UID made by another user, and the impostor there hears nothing", async () => {
    // All in a private mount namespace with a /tmp of its own, so the real
    // /tmp/lxzone-65534 of other rootless tests is neither seen nor touched;
    // the checkout is bound at /mnt so nobody can reach it wherever it is.
    const asAttacker = `setpriv --reuid=${attacker.uid} --regid=${attacker.gid} --clear-groups --`;
    const asNobody = `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups --`;
    const script = [
      'set -e',
      // The checkout first: it may itself live under /tmp (a clone in mktemp -d), which the tmpfs hides.
      'mount --bind "$0" /mnt',
      'mount -t tmpfs -o mode=1777,size=1m,nr_inodes=256 lxzone-test /tmp',
      // Out of a working directory the tmpfs may have hidden (a checkout under /tmp): node's
      // children (tsx's esbuild) are spawned in the parent's cwd and would fail with ENOENT.
      'cd /',
      // The attacker squats the victim's runtime directory and serves a fake daemon in it.
      `${asAttacker} mkdir -m 0755 /tmp/lxzone-${NOBODY}`,
      `${asAttacker} /usr/bin/python3 -c "$1" /tmp/lxzone-${NOBODY}/daemon.sock -1 & fake=$!`,
      `i=0; while [ ! -S /tmp/lxzone-${NOBODY}/daemon.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done`,
      `mkdir -m 0700 /tmp/victim && chown ${NOBODY}:${NOBODY} /tmp/victim`,
      // The victim (nobody, no XDG_RUNTIME_DIR) lists its zones.
      'set +e',
      `${asNobody} env -i PATH=/usr/bin:/bin HOME=/tmp/victim XDG_DATA_HOME=/tmp/victim ${process.execPath} --import /mnt/node_modules/tsx/dist/esm/index.mjs /mnt/test/support/cli-entry.ts list`,
      'echo "cli-exit=$?"',
      'kill $fake',
    ].join('\n');
    const r = await run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, repoRoot, FAKE_DAEMON]);
    expect(r.stdout, r.stderr).toMatch(/^listening$/m); // the impostor was there
    expect(r.stdout).not.toMatch(/connected|planted-by-attacker/);
    expect(r.stdout).toMatch(/^cli-exit=[1-9]/m);
    expect(r.stderr).toMatch(new RegExp(`/tmp/lxzone-${NOBODY} is owned by uid ${attacker.uid}, not by us`));
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('refuses a daemon socket whose listener runs as another user (SO_PEERCRED), though the file is ours', async () => {
    const base = mkdtempSync('/tmp/lxz75-');
    dirs.push(base);
    const runtimeDir = join(base, 'run');
    const env = { ...process.env, LXZONE_STATE_DIR: join(base, 'state'), LXZONE_RUNTIME_DIR: runtimeDir };
    await run('mkdir', ['-m', '0700', runtimeDir]);
    // Bound by root (the file is root's, like ours), listening as the attacker.
    const fake = spawn('/usr/bin/python3', ['-c', FAKE_DAEMON, join(runtimeDir, 'daemon.sock'), String(attacker.uid)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(fake);
    let heard = '';
    fake.stdout!.on('data', (d) => (heard += d));
    while (!heard.includes('listening')) await new Promise((r) => setTimeout(r, 50));
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const r = await runCli(['list']);
      expect(r.code).not.toBe(0);
      expect(r.stdout).not.toMatch(/planted-by-attacker/);
      expect(r.stderr).toMatch(new RegExp(`daemon.sock \\(pid \\d+\\) runs as uid ${attacker.uid}, not as us \\(uid 0\\)`));
    } finally {
      process.env = saved;
    }
    // It did connect (that is how the peer was seen), and hung up at once.
    expect(heard).toMatch(/connected/);
  });

  it('refuses a runtime directory of ours that others may write to, and a socket file not ours', async () => {
    const base = mkdtempSync('/tmp/lxz75-');
    dirs.push(base);
    const saved = { ...process.env };
    Object.assign(process.env, { LXZONE_STATE_DIR: join(base, 'state'), LXZONE_RUNTIME_DIR: join(base, 'run') });
    try {
      await run('mkdir', ['-m', '0700', join(base, 'run')]);
      chmodSync(join(base, 'run'), 0o777);
      let r = await runCli(['list']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/run is writable by group or others \(mode 777\)/);

      chmodSync(join(base, 'run'), 0o700);
      // A socket file in it owned by someone else (as root could have made for them).
      const fake = spawn('/usr/bin/python3', ['-c', FAKE_DAEMON, join(base, 'run', 'daemon.sock'), '-1'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(fake);
      let heard = '';
      fake.stdout!.on('data', (d) => (heard += d));
      while (!heard.includes('listening')) await new Promise((res) => setTimeout(res, 50));
      await run('chown', [String(attacker.uid), join(base, 'run', 'daemon.sock')]);
      r = await runCli(['list']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/daemon.sock is owned by uid \d+, not by us/);
      expect(heard).not.toMatch(/connected/);
    } finally {
      process.env = saved;
    }
  });
});
