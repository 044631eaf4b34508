// A bundle's rootfs belongs to host root (containerd and the runtime-tools
// suite unpack it as root); the container's root is an unprivileged host id.
// lxzone-runc binds the rootfs id-mapped onto the zone's ids: the container's
// root owns and writes what host root owns there (stored as host root's, as
// under runc), other ids keep their own files, and nothing outside the rootfs
// changes hands. Missing mount destinations are created in the rootfs, as
// runc creates them (directories, or empty files for file binds).
import { chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc bundle rootfs', () => {
  const h = useOciHarness('lxz85root');

  const run = async (id: string, script: string, edit: (c: any) => void = () => {}) => {
    let rootfs = '';
    const b = h.bundle(id, (c) => {
      c.process.args = ['/bin/sh', '-c', script];
      c.root.readonly = false;
      rootfs = c.root.path;
      edit(c);
    });
    const r = await h.runc(['run', '--bundle', b, id]);
    return { ...r, rootfs };
  };

  it("the container's root writes its host-root-owned rootfs; the files stay host root's on disk", async () => {
    const r = await run('w1', 'echo hi > /made-by-root && mkdir /etc/newdir && ls -ln /made-by-root && cat /proc/self/uid_map');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // In the container the file is its root's (uid 0) …
    expect(r.stdout).toMatch(/^-\S+\s+\d+\s+0\s+0\s.*\/made-by-root$/m);
    // … whose host id is the zone's range, never host root.
    expect(r.stdout).not.toMatch(/^\s*0\s+0\s/m);
    // On disk: host root's, as under runc.
    const st = statSync(join(r.rootfs, 'made-by-root'));
    expect([st.uid, st.gid]).toEqual([0, 0]);
    expect(readFileSync(join(r.rootfs, 'made-by-root'), 'utf8')).toBe('hi\n');
    expect(statSync(join(r.rootfs, 'etc', 'newdir')).uid).toBe(0);
  });

  it("other ids keep their own: a non-root user cannot write root's directories, and owns what its host id owns", async () => {
    let rootfs = '';
    const b = h.bundle('w2', (c) => {
      rootfs = c.root.path;
      c.process.user = { uid: 1000, gid: 1000 };
      c.root.readonly = false;
      c.process.args = ['/bin/sh', '-c', 'touch /etc/nope 2>/dev/null && echo wrote-etc; echo mine > /work/mine && ls -ln /work/mine; id -u'];
    });
    chownSync(join(rootfs, 'work'), 1000, 1000);
    const r = await h.runc(['run', '--bundle', b, 'w2']);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('wrote-etc');
    expect(r.stdout).toMatch(/^-\S+\s+\d+\s+1000\s+1000\s.*\/work\/mine$/m);
    expect(statSync(join(rootfs, 'work', 'mine')).uid).toBe(1000);
  });

  it('missing mount destinations are made in the rootfs: directories for tmpfs and directory binds, files for file binds', async () => {
    const src = join(h.work, 'bind-src');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'f'), 'file-bind\n');
    const r = await run(
      'm1',
      'cat /new/file-bind; ls /new/dir-bind; grep -E " /new/(tmp|dir-bind|file-bind) " /proc/self/mountinfo | wc -l; ls -ld /new/tmp',
      (c) => {
        c.root.readonly = true; // made before the root turns read-only, as runc does
        c.mounts.push(
          { destination: '/new/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=750', 'size=64k'] },
          { destination: '/new/dir-bind', type: 'bind', source: src, options: ['rbind', 'ro'] },
          { destination: '/new/file-bind', type: 'bind', source: join(src, 'f'), options: ['bind', 'ro'] },
        );
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['file-bind', 'f', '3']);
    expect(r.stdout).toMatch(/^drwxr-x--- .* \/new\/tmp$/m);
    expect(statSync(join(r.rootfs, 'new', 'file-bind')).isFile()).toBe(true);
    expect(statSync(join(r.rootfs, 'new', 'tmp')).isDirectory()).toBe(true);
  });
});
