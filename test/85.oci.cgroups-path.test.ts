// linux.cgroupsPath as runc takes it (cgroupfs): the container's cgroup is
// made at that path (absolute from the hierarchy's root, or relative to the
// runtime's own cgroup), capped there, and removed at delete; the systemd
// form, the root cgroup and a cgroup with children are refused naming the
// field, leaving nothing behind.
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cgroupOfPid, detectCgroups } from '../src/zone/cgroups/index.js';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc linux.cgroupsPath', () => {
  const host = detectCgroups();
  const top = `/lxz85cgpath-${process.pid}`;
  const dirsOf = (path: string): string[] =>
    host.version === 2 ? [join(host.v2Root!, path)] : [...new Set(host.v1Mounts.values())].map((m) => join(m, path));
  const memoryMax = (path: string): string =>
    readFileSync(host.version === 2 ? join(host.v2Root!, path, 'memory.max') : join(host.v1Mounts.get('memory')!, path, 'memory.limit_in_bytes'), 'utf8').trim();
  const made: string[] = [];
  const h = useOciHarness('lxz85cgp', {
    after: async () => {
      for (const id of ['abs', 'rel']) await h.runc(['delete', '--force', id]);
      // The parents runc (and lxzone-runc) leave, deepest first.
      for (const p of [...new Set(made)].sort((a, b) => b.length - a.length)) for (const d of dirsOf(p)) if (existsSync(d)) rmdirSync(d);
    },
  });

  const createAt = async (id: string, cgroupsPath: string): Promise<{ code: number | null; stderr: string; initPid: number }> => {
    const b = h.bundle(id, (c) => {
      c.process.args = ['/bin/sleep', '300'];
      c.linux.cgroupsPath = cgroupsPath;
      c.linux.resources = { memory: { limit: 48 * 1048576 } };
    });
    const r = await h.runc(['create', '--bundle', b, id], { out: join(h.work, `${id}.out`) });
    const st = join(h.stateDir, id, 'state.json');
    return { code: r.code, stderr: r.code === 0 ? '' : readFileSync(join(h.work, `${id}.out`), 'utf8'), initPid: existsSync(st) ? JSON.parse(readFileSync(st, 'utf8')).initPid : 0 };
  };

  it('an absolute path: the container\'s cgroup is there in every hierarchy, capped, and gone after delete', async () => {
    const path = `${top}/abs`;
    made.push(top);
    const r = await createAt('abs', path);
    expect(r.code, r.stderr).toBe(0);
    expect(cgroupOfPid(r.initPid, host)).toBe(path);
    for (const d of dirsOf(path)) expect(existsSync(d), d).toBe(true);
    expect(memoryMax(path)).toBe(String(48 * 1048576));
    expect((await h.runc(['delete', '--force', 'abs'])).code).toBe(0);
    for (const d of dirsOf(path)) expect(existsSync(d), d).toBe(false);
  });

  it('a relative path is under the runtime\'s own cgroup', async () => {
    const own = cgroupOfPid(process.pid, host)!;
    const rel = `lxz85cgrel-${process.pid}/rel`;
    made.push(join(own, `lxz85cgrel-${process.pid}`));
    const r = await createAt('rel', rel);
    expect(r.code, r.stderr).toBe(0);
    expect(cgroupOfPid(r.initPid, host)).toBe(join(own, rel));
    expect((await h.runc(['delete', '--force', 'rel'])).code).toBe(0);
    for (const d of dirsOf(join(own, rel))) expect(existsSync(d), d).toBe(false);
  });

  it('the systemd form, the root cgroup and a cgroup with children are refused naming the field', async () => {
    // A cgroup with a child (as a slice or the kubelet's pod cgroup is): not a container's leaf.
    const busy = `${top}-busy`;
    made.push(busy, `${busy}/child`);
    for (const d of dirsOf(`${busy}/child`)) mkdirSync(d, { recursive: true });
    const cases: [string, string][] = [
      ['system.slice:lxz:bad', '--systemd-cgroup'],
      ['/', 'the root cgroup'],
      [busy, 'child cgroups'],
    ];
    for (const [i, [path, why]] of cases.entries()) {
      const id = `bad${i}`;
      const r = await createAt(id, path);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('linux.cgroupsPath');
      expect(r.stderr).toContain(why);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(h.stateDir, id))).toBe(false);
    }
  });
});
