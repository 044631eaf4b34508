// The copy-on-write host root (issue 21, "Writes on the host root"): with
// --root cow the zone's root may write anywhere on the host's root, the
// writes land in the zone's upper layer and never on the host; a one-shot
// zone's are gone when it ends, a named zone keeps them on its disk across
// halt and boot. What only the host's root may read stays hidden, and the
// masks cannot be lifted from inside.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(87);
const { ok } = env;
const mark = `/usr/local/lxzone-cow-${process.pid}`;
const mounted = (target: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === target);

it('a one-shot --root cow zone writes under /usr/local; the host never sees it and the next zone neither', async () => {
  const first = await env.cli(['run', '--root', 'cow', '--network', 'none', '--', '/bin/sh', '-c', `echo hi > ${mark} && cat ${mark} && id -u && stat -c %U /usr/local`]);
  expect(first.stderr).toBe('');
  expect(first.stdout).toBe('hi\n0\nroot\n');
  expect(existsSync(mark)).toBe(false);
  const second = await env.cli(['run', '--root', 'cow', '--network', 'none', '--', '/bin/sh', '-c', `test -e ${mark}; echo $?`]);
  expect(second.stdout).toBe('1\n');
  // The default root is unchanged: read-only.
  const ro = await env.cli(['run', '--network', 'none', '--', '/bin/sh', '-c', `echo hi > ${mark}`]);
  expect(ro.code).not.toBe(0);
  expect(ro.stderr).toMatch(/Read-only file system|Permission denied/);
});

it("a --root cow zone's root cannot read what only the host's root may, nor lift the masks", async () => {
  const hostShadow = readFileSync('/etc/shadow').length;
  expect(hostShadow).toBeGreaterThan(0);
  const script = [
    'wc -c < /etc/shadow',
    'umount /etc/shadow 2>/dev/null && echo umount=lifted || echo umount=refused',
    'umount -l /var/lib/lxzone 2>/dev/null && echo umount-state=lifted || echo umount-state=refused',
    'rm /etc/shadow 2>/dev/null && echo rm=done || echo rm=refused',
    'mount -o remount,ro / 2>/dev/null && echo remount=done || echo remount=refused',
    'wc -c < /etc/shadow',
    'ls -A /home | wc -l',
  ].join('; ');
  const r = await env.cli(['run', '--root', 'cow', '--network', 'none', '--', '/bin/sh', '-c', script]);
  expect(r.stdout.trim().split('\n')).toEqual(['0', 'umount=refused', 'umount-state=refused', 'rm=refused', 'remount=refused', '0', '0']);
});

it('a named --root cow zone keeps its writes across halt and boot on its disk; destroy leaves nothing', async () => {
  const script = `if [ -e ${mark} ]; then cat ${mark}; else echo first; echo second > ${mark}; fi; sleep 600`;
  await ok(['create', 'cow', '--root', 'cow', '--network', 'none', '--', '/bin/sh', '-c', script]);
  const zoneDir = join(env.stateDir, 'zones', 'cow');
  expect(JSON.parse(readFileSync(join(zoneDir, 'config.json'), 'utf8')).rootfs).toEqual({ type: 'host', copyOnWrite: true });
  const log = join(zoneDir, 'logs', 'stdout.log');
  const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
  await ok(['boot', 'cow']);
  await waitFor(() => lines().length >= 1);
  expect(lines()).toEqual(['first']);
  expect(existsSync(mark)).toBe(false);
  expect(existsSync(join(zoneDir, 'disk', 'cow', 'upper', mark))).toBe(true); // on the zone's disk
  await ok(['halt', 'cow']);
  await waitFor(() => !mounted(join(zoneDir, 'disk')));
  await ok(['boot', 'cow']);
  await waitFor(() => lines().length >= 2);
  expect(lines()).toEqual(['first', 'second']);
  expect(existsSync(mark)).toBe(false);
  await ok(['destroy', '--force', 'cow']);
  expect(existsSync(zoneDir)).toBe(false);
  expect(execFileSync('losetup', ['-a']).toString()).not.toContain(zoneDir);
});

it('refuses --root cow with --rootfs or --image', async () => {
  const r = await env.cli(['run', '--root', 'cow', '--rootfs', '/usr', '--', '/bin/true']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--root cow');
  const c = await env.cli(['create', 'x', '--root', 'cow', '--rootfs', '/usr', '--', '/bin/true']);
  expect(c.code).toBe(2);
  expect(existsSync(join(env.stateDir, 'zones', 'x'))).toBe(false);
});
