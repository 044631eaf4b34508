// exec into a running zone, pseudo-terminals, and rootless zones (issues 2, 6).
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execInZone, runZone, startZone } from '../src/zone/run.js';
import { nobodysRoot, runNodeAsNobody } from './support/nobody.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

describe('execInZone()', () => {
  it("runs a new process in the zone's namespaces, with its own stdio and exit code", async () => {
    const zone = startZone({ argv: ['/bin/sh', '-c', 'echo inside > /tmp/marker; sleep 30'], hostname: 'exec-me', stdio: 'pipe' });
    const init = await zone.initPid;
    try {
      // The marker shows the zone has run its first command.
      await new Promise((r) => setTimeout(r, 300));
      const r = await execInZone(init, {
        argv: ['/bin/sh', '-c', 'cat /tmp/marker; hostname; uname -n; ls /proc | grep -c "^[0-9]"; cut -d" " -f1 /proc/uptime; exit 4'],
        hostname: 'exec-me',
        stdio: 'pipe',
      }).wait();
      const [marker, host, uts, procs, uptime] = r.stdout!.toString().trim().split('\n');
      expect(marker).toBe('inside');
      expect(host).toBe('exec-me');
      expect(uts).toBe('exec-me'); // uname answered by the supervisor for this process too
      expect(Number(procs)).toBeLessThan(8); // the zone's processes only
      expect(Number(uptime)).toBeLessThan(30); // the zone's time namespace: since the zone's boot
      expect(r.exitCode).toBe(4);
    } finally {
      zone.kill('SIGKILL');
      await zone.wait();
    }
  });

  it('refuses to join a zone that is not running', async () => {
    const zone = startZone({ argv: ['/bin/true'], stdio: 'pipe' });
    const init = await zone.initPid;
    await zone.wait();
    await expect(execInZone(init, { argv: ['/bin/true'], stdio: 'pipe' }).wait()).rejects.toThrow(/not running/);
  });

  it('refuses to join a zone still being built (its namespaces are half made)', async () => {
    // onCreated holds the zone before it builds anything, as the lifecycle does while it places it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const zone = startZone({ argv: ['/bin/sh', '-c', 'echo built'], stdio: 'pipe', onCreated: () => held });
    const init = await zone.initPid;
    await expect(execInZone(init, { argv: ['/bin/true'], stdio: 'pipe' }).wait()).rejects.toThrow(/is still being built; join it once it runs/);
    release();
    const r = await zone.wait();
    expect(r.stdout!.toString()).toBe('built\n');
  });
});

describe('tty', () => {
  it('gives the binary a terminal of the zone, relayed by the keeper', async () => {
    const r = await runZone({ argv: ['/bin/sh', '-c', 'tty; test -t 0 && echo interactive'], tty: true, stdio: 'pipe' });
    const text = r.stdout!.toString().replace(/\r/g, '');
    expect(text).toMatch(/^\/dev\/pts\/\d+$/m);
    expect(text).toContain('interactive');
    expect(r.exitCode).toBe(0);
  });
});

/** `node --import tsx ARGS` as the unprivileged user nobody, from /tmp, with only PATH and HOME=/tmp of an environment. */
async function nodeAsNobody(args: (root: string) => string[]): Promise<{ code: number | null; out: string; err: string }> {
  const r = await runNodeAsNobody(args, { cwd: '/tmp', env: { PATH: process.env.PATH, HOME: '/tmp' } });
  return { code: r.code, out: r.stdout, err: r.stderr };
}
const cli = (root: string) => join(root, 'test/support/cli-entry.ts');

describe('rootless', () => {
  it('runs a zone as an unprivileged user, whose only id is its root', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-rootless-'));
    chmodSync(dir, 0o777);
    try {
      const script = 'id -u; cat /proc/self/uid_map; echo $$; touch /tmp/ok && echo tmp; touch /etc/x 2>/dev/null || echo ro; touch /mnt/made; cut -d" " -f1 /proc/uptime';
      const { code, out, err } = await nodeAsNobody((root) => [cli(root), 'run', '-v', `${dir}:/mnt`, '--', '/bin/sh', '-c', script]);
      expect(err).toBe('');
      expect(code).toBe(0);
      const lines = out.trim().split('\n').map((l) => l.trim().replace(/\s+/g, ' '));
      // One id, root, mapped onto the root of the caller's user namespace (the
      // zone's is a second one, its child, so that its mounts are locked)...
      const uptime = Number(lines.pop());
      expect(lines).toEqual(['0', '0 0 1', '2', 'tmp', 'ro']);
      expect(uptime).toBeLessThan(30); // a time namespace of its own, as root zones have
      // ...which is the caller itself on the host.
      expect(statSync(join(dir, 'made')).uid).toBe(65534);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lets an unprivileged user exec into its own zone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-rootless-'));
    chmodSync(dir, 0o755);
    const script = join(dir, 'exec.mts');
    writeFileSync(script, `
      import { startZone, execInZone } from ${JSON.stringify(join(nobodysRoot(), 'src/zone/run.ts'))};
      const z = startZone({ argv: ['/bin/sh', '-c', 'echo inside > /tmp/m; sleep 20'], stdio: 'pipe' });
      const init = await z.initPid;
      await new Promise((r) => setTimeout(r, 500));
      const e = await execInZone(init, { argv: ['/bin/sh', '-c', 'cat /tmp/m; id -u'], stdio: 'pipe' }).wait();
      console.log(JSON.stringify({ code: e.exitCode, out: e.stdout.toString() }));
      z.kill('SIGKILL');
      await z.wait();
    `);
    chmodSync(script, 0o644);
    try {
      const { code, out, err } = await nodeAsNobody(() => [script]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(out)).toEqual({ code: 0, out: 'inside\n0\n' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what needs root, naming it', async () => {
    const { code, err } = await nodeAsNobody((root) => [cli(root), 'run', '--user', '5', '--', '/bin/true']);
    expect(code).toBe(125);
    expect(err).toContain('--user needs root');
  });
});
