// linux.readonlyPaths in the container's own tree (lxzone-runc): each path
// is bound onto itself read-only once the rootfs and the config's mounts
// are in place, as runc does (a recursive bind, then the bind remounted
// read-only; native/shim/mounts.cc readonly_in_root). The container reads
// there and cannot write there, nor remount it; the rest of its writable
// root stays writable; a path that does not exist is skipped and one that
// leads nowhere (a symlink loop) fails the create, as runtime-tools'
// linux_readonly_paths expects; the root itself is refused naming it.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc linux.readonlyPaths in the container\'s tree', () => {
  const h = useOciHarness('lxz85ro', { timeoutMs: 120_000 });

  it('a read-only path reads, refuses writes and a remount; the rest of the root stays writable', async () => {
    let rootfs = '';
    const b = h.bundle('ro1', (c) => {
      rootfs = c.root.path;
      c.root.readonly = false;
      c.mounts.push({ destination: '/data/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
      c.linux.readonlyPaths = [...(c.linux.readonlyPaths ?? []), '/data', '/etc/os-release', '/no/such/path'];
      c.process.args = ['/bin/sh', '-c', [
        'echo "read=$(cat /data/kept)"',
        'echo "listed=$(ls /data | wc -l)"',
        '(echo x > /data/new) 2>/dev/null && echo WROTE-NEW',
        '(echo x > /data/kept) 2>/dev/null && echo WROTE-KEPT',
        '(mkdir /data/sub2) 2>/dev/null && echo MADE-DIR',
        '(echo x > /etc/os-release) 2>/dev/null && echo WROTE-OSRELEASE',
        'mount -o remount,rw /data 2>/dev/null && echo REMOUNTED',
        '(echo x > /data/new) 2>/dev/null && echo WROTE-AFTER-REMOUNT',
        // runc's remount is of the bind alone: a mount under the path keeps its own flags.
        '(echo x > /data/scratch/f) 2>/dev/null && echo WROTE-SCRATCH',
        '(echo y > /elsewhere) 2>/dev/null && echo WROTE-ELSEWHERE',
        '(echo z > /etc/other) 2>/dev/null && echo WROTE-ETC',
        'grep -c " /data " /proc/self/mountinfo',
      ].join('; ')];
    });
    mkdirSync(join(rootfs, 'data'));
    writeFileSync(join(rootfs, 'data', 'kept'), 'from the image\n');
    const r = await h.runc(['run', '--bundle', b, 'ro1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout.split('\n');
    expect(out).toContain('read=from the image');
    expect(out).toContain('listed=2'); // kept, and the scratch mount point
    for (const refused of ['WROTE-NEW', 'WROTE-KEPT', 'MADE-DIR', 'WROTE-OSRELEASE', 'REMOUNTED', 'WROTE-AFTER-REMOUNT']) expect(out, refused).not.toContain(refused);
    for (const allowed of ['WROTE-SCRATCH', 'WROTE-ELSEWHERE', 'WROTE-ETC']) expect(out, allowed).toContain(allowed);
    expect(out).toContain('1'); // /data is a mount of its own (the read-only bind)
    // The container's writes landed in its root, none under the read-only path.
    expect(readFileSync(join(rootfs, 'elsewhere'), 'utf8')).toBe('y\n');
    expect(readFileSync(join(rootfs, 'data', 'kept'), 'utf8')).toBe('from the image\n');
    expect(existsSync(join(rootfs, 'data', 'new'))).toBe(false);
    expect(readFileSync(join(rootfs, 'etc', 'os-release'), 'utf8')).toBe('ID=lxzone-test\n');
    expect(existsSync(join(h.stateDir, 'ro1'))).toBe(false);
  }, 120_000);

  it('the root is refused naming it; a path that is a symlink loop fails the create; nothing is left', async () => {
    const refusedRoot = await h.runc(['create', '--bundle', h.bundle('rroot', (c) => (c.linux.readonlyPaths = ['/'])), 'rroot']);
    expect(refusedRoot.code).toBe(1);
    expect(refusedRoot.stderr).toMatch(/linux\.readonlyPaths\[0\]: \/ cannot be made read-only/);
    expect(existsSync(join(h.stateDir, 'rroot'))).toBe(false);

    let rootfs = '';
    const b = h.bundle('rloop', (c) => {
      rootfs = c.root.path;
      c.linux.readonlyPaths = ['/readonly-symlink'];
      c.process.args = ['/bin/true'];
    });
    symlinkSync('../readonly-symlink', join(rootfs, 'readonly-symlink'));
    const loop = await h.runc(['run', '--bundle', b, 'rloop']);
    expect(loop.code).not.toBe(0);
    expect(loop.stderr).toMatch(/readonly-symlink/);
    expect(existsSync(join(h.stateDir, 'rloop'))).toBe(false);
  }, 120_000);
});
