// Issue 14.9: a zone never sees lxzone's state. A rootless zone runs as its
// caller's uid, so it could read every other zone's config (environment
// secrets) and logs under ~/.local/share/lxzone; now lxzone's state and
// runtime directories are masked wherever they would show in a zone, and a
// bind of anything inside them is refused. Attacked as the real unprivileged
// user nobody, and from a root zone.
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { NOBODY, runNodeAsNobody } from './support/nobody.js';

// Not under /tmp: a zone has a /tmp of its own, where nothing of the host's would show anyway.
const base = mkdtempSync('/var/tmp/lxz78-');
chmodSync(base, 0o755); // nobody must reach its home below
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("lxzone's state seen from a zone", () => {
  it("a rootless zone cannot read another zone's config or logs, through the host's root or a bind of the home", async () => {
    const home = join(base, 'home');
    mkdirSync(home, { mode: 0o700 });
    chownSync(home, NOBODY, NOBODY);
    const state = join(home, '.local/share/lxzone');
    const env = { PATH: '/usr/bin:/bin', HOME: home };
    const cli = (args: string[]) => runNodeAsNobody((root) => [join(root, 'test/support/cli-entry.ts'), ...args], { env, cwd: '/' });

    const created = await cli(['create', 'other', '-e', 'SECRET=hunter2', '--network', 'loopback', '--', '/bin/true']);
    expect(created.code, created.stderr).toBe(0);
    // The secret is there, readable by nobody on the host (so the test can fail).
    expect(readFileSync(join(state, 'zones/other/config.json'), 'utf8')).toContain('hunter2');

    const r = await cli([
      'run', '--no-tty', '--network', 'none', '-v', `${home}:/srv`, '--', '/bin/sh', '-c',
      `cat ${state}/zones/other/config.json; ls -A ${state}; cat /srv/.local/share/lxzone/zones/other/config.json; ls -A /srv/.local/share/lxzone; echo done`,
    ]);
    expect(r.stdout, r.stderr).toMatch(/^done$/m);
    expect(r.stdout + r.stderr).not.toMatch(/hunter2/);
    expect(r.stdout).not.toMatch(/zones|daemon/);
    expect(r.stderr).toMatch(/other\/config.json: No such file or directory/);

    // A bind of something inside it is refused, naming why.
    const b = await cli(['run', '--no-tty', '-v', `${state}/zones:/x`, '--', '/bin/true']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/bind source .*\/zones is inside lxzone's directory .*lxzone: zones never see lxzone's state/);
    expect(b.stderr).not.toMatch(/\n\s+at /);
  });

  it("a root zone on the host's root finds the state directory masked (an empty tmpfs), not merely closed", async () => {
    const stateDir = join(base, 'root-state');
    mkdirSync(join(stateDir, 'zones/other'), { recursive: true, mode: 0o700 });
    const saved = process.env.LXZONE_STATE_DIR;
    process.env.LXZONE_STATE_DIR = stateDir;
    try {
      const r = await runZone({
        argv: ['/bin/sh', '-c', `grep " ${stateDir} " /proc/self/mountinfo | sed 's/.* - //' | cut -d' ' -f1; ls -A ${stateDir} 2>&1; echo done`],
        stdio: 'pipe',
      });
      const out = r.stdout!.toString();
      expect(out).toMatch(/^tmpfs$/m);
      expect(out).not.toMatch(/zones/);
    } finally {
      if (saved === undefined) delete process.env.LXZONE_STATE_DIR;
      else process.env.LXZONE_STATE_DIR = saved;
    }
  });
});
