// Every systemd host mounts / shared: a mount made in a namespace cloned from
// it propagates back unless the namespace is made private first. The zone
// tests elsewhere run on this CI host's private / and could not see that, so
// here zones run from a mount namespace of the test's own with / made rshared
// (unshare -m, then mount --make-rshared /): a new peer group of its own, so
// nothing other programs mount reaches it and what a zone leaks does. A
// positive control shows the check catches a leak: a plain child namespace's
// tmpfs appears at once. Also: the leak accounting of the other zone tests
// counts mounts under their own test roots and not under other programs'.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNothingLeft, hostSnapshot, ownTempDir, repoRoot } from './support/zones.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    spawnSync('umount', ['-R', '-l', d]);
    rmSync(d, { recursive: true, force: true });
  }
});

/** Runs `script` (ES module text) in node inside a private mount namespace whose / is rshared; its JSON result. */
function inSharedNamespace(script: string): Record<string, unknown> {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --make-rshared / && exec "$0" --input-type=module -e "$1"', process.execPath, script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const RUN = JSON.stringify(join(repoRoot, 'dist', 'zone', 'run.js'));

describe('zones started from a namespace whose / is shared', () => {
  it('leak none of their mounts into it, while running or after (the control leak shows)', () => {
    const data = mkdtempSync(join(tmpdir(), 'lxzone-shared-data-'));
    const control = mkdtempSync(join(tmpdir(), 'lxzone-shared-control-'));
    dirs.push(data, control);
    const out = inSharedNamespace(`
      import { readFileSync } from 'node:fs';
      import { execFileSync } from 'node:child_process';
      const { startZone } = await import(${RUN});
      const mounts = () => readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\\n').map((l) => l.split(' '));
      const points = () => mounts().map((f) => f[4]).sort();
      const rootShared = mounts().find((f) => f[4] === '/').slice(6).some((o) => o.startsWith('shared:'));
      const before = points();
      const z = startZone({ argv: ['/bin/sh', '-c', 'mount -t tmpfs none /tmp 2>/dev/null; sleep 2; echo ran'], stdio: 'pipe',
        binds: [{ host: ${JSON.stringify(data)}, zone: '/mnt', readOnly: true }], tmpfs: [{ target: '/run', sizeBytes: 1 << 20 }] });
      await new Promise((r) => setTimeout(r, 1200));
      const during = points().filter((m) => !before.includes(m));
      const result = await z.wait();
      const after = points().filter((m) => !before.includes(m));
      // Control: a child namespace that does not make itself private leaks its tmpfs here.
      execFileSync('unshare', ['-m', '--propagation', 'unchanged', 'mount', '-t', 'tmpfs', 'none', ${JSON.stringify(control)}]);
      const control = points().filter((m) => !before.includes(m));
      console.log(JSON.stringify({ rootShared, during, after, control, exit: result.exitCode, stdout: result.stdout.toString() }));
    `);
    expect(out.rootShared).toBe(true);
    expect(out.exit).toBe(0);
    expect(out.stdout).toBe('ran\n');
    expect(out.during).toEqual([]);
    expect(out.after).toEqual([]);
    expect(out.control).toEqual([control]);
  });
});

describe('the zone tests\' leak accounting', () => {
  it('counts a mount left under one of its own test roots', async () => {
    const root = ownTempDir(mkdtempSync(join(tmpdir(), 'lxzone-own-root-')));
    dirs.push(root);
    mkdirSync(join(root, 'tmp'));
    const before = hostSnapshot();
    spawnSync('mount', ['-t', 'tmpfs', 'none', join(root, 'tmp')]);
    await expect(expectNothingLeft(before)).rejects.toThrow(`mounts added ${join(root, 'tmp')}`);
    spawnSync('umount', [join(root, 'tmp')]);
    await expectNothingLeft(before);
  });

  it('does not count a mount another program makes in a temp directory of its own', async () => {
    const other = mkdtempSync(join(tmpdir(), 'lxzone-other-program-'));
    dirs.push(other);
    mkdirSync(join(other, 'x'));
    const before = hostSnapshot();
    spawnSync('mount', ['-t', 'tmpfs', 'none', join(other, 'x')]);
    await expectNothingLeft(before);
    spawnSync('umount', [join(other, 'x')]);
  });
});
