// An image's Volumes seeded from layers that delete and recreate a
// directory: the upper layer's `.wh..wh..opq` (an opaque directory, as
// docker writes for `rm -rf d && mkdir d` in one step) hides what the lower
// layers hold there. The volume must hold what the merged image shows at
// its path: the opaque directory's own files, never the lower layers' ones;
// likewise for an opaque directory inside the volume and one above it. The
// layers are unpacked by the store (real xattrs on the real filesystem), the
// volumes seeded for a real zone, and a file lookup through the layers (a
// user name's passwd entry) honours the marker too.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importArchive } from '../src/zone/image/store/archive.js';
import { ImageStore } from '../src/zone/image/store/images.js';
import { ensureVolumes } from '../src/zone/image/store/volumes.js';
import { layeredReader } from '../src/zone/image/store/zone-image.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { busyboxRoot, ociLayout } from './support/registry.js';
import { describeUnless, rootOnly } from './support/skip.js';

const why = rootOnly('image layers are unpacked with overlayfs whiteouts and trusted xattrs');
const env = useLifecycleEnv(90);
// A skipped file runs no hooks: what the environment made at import (its directory) goes now.
if (why !== undefined) rmSync(env.base, { recursive: true, force: true });

let work: string;
let archive: string;

const put = (root: string, files: Record<string, string>) => {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
};
const ls = (d: string) => readdirSync(d).sort();

describeUnless(why, 'volumes seeded through opaque directories', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33v-'));
    const l1 = join(work, 'l1');
    const l2 = join(work, 'l2');
    busyboxRoot(l1);
    put(l1, { 'data/lower1': 'lower', 'data/sub/s1': 'lower', 'srv/top': 'kept', 'srv/sub/lower': 'lower', 'var/lib/vol/old': 'lower', 'opt/conf/f1': 'lower' });
    // The upper layer deletes and recreates /data (the volume), /srv/sub (inside a volume), /var (above one) and /opt/conf.
    put(l2, {
      'data/.wh..wh..opq': '', 'data/new': 'upper',
      'srv/sub/.wh..wh..opq': '', 'srv/sub/upper': 'upper',
      'var/.wh..wh..opq': '', 'var/lib/vol/fresh': 'upper',
      'opt/conf/.wh..wh..opq': '', 'opt/conf/f2': 'upper',
    });
    const config = { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Volumes: { '/data': {}, '/srv': {}, '/var/lib/vol': {} } };
    ociLayout(join(work, 'oci'), [l1, l2], 'v1', false, config);
    archive = join(work, 'img.tar');
    execFileSync('tar', ['-C', join(work, 'oci'), '-cf', archive, '.']);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the seeded volume holds the opaque directory\'s files only; lookups through the layers stop at it', async () => {
    const store = new ImageStore({ stateDir: join(work, 'state'), runtimeDir: join(work, 'run') });
    const { record } = await importArchive(store, archive, 'opaque:v1');
    const layers = record.layers.map((l) => store.layers.path(l.digest));
    const vols = join(work, 'volumes');
    const binds = ensureVolumes(['/data', '/srv', '/var/lib/vol'], layers, vols, { idBase: 200000, count: 65536 });
    const dir = (p: string) => binds.find((b) => b.zone === p)?.host as string;
    expect(ls(dir('/data'))).toEqual(['new']);
    expect(ls(dir('/srv'))).toEqual(['sub', 'top']);
    expect(ls(join(dir('/srv'), 'sub'))).toEqual(['upper']);
    expect(ls(dir('/var/lib/vol'))).toEqual(['fresh']);
    expect(readFileSync(join(dir('/data'), 'new'), 'utf8')).toBe('upper');
    const read = layeredReader(layers);
    expect(read('/opt/conf/f1')).toBeUndefined();
    expect(read('/opt/conf/f2')?.toString()).toBe('upper');
    expect(read('/srv/top')?.toString()).toBe('kept');
    expect(read('/etc/passwd')?.toString()).toMatch(/^root:/);
  });

  it('a zone of the image sees the same in its volumes', async () => {
    await env.ok(['image', 'import', archive, 'opaque:v1']);
    const script = 'ls /data; echo -; ls /srv/sub; echo -; ls /var/lib/vol; echo -; ls /opt/conf; sleep 600';
    await env.ok(['create', 'vo', '--image', 'opaque:v1', '--network', 'none', '--', '/bin/sh', '-c', script]);
    await env.ok(['boot', 'vo']);
    const log = join(env.stateDir, 'zones/vo/logs/stdout.log');
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    await waitFor(() => lines().length >= 7);
    expect(lines()).toEqual(['new', '-', 'upper', '-', 'fresh', '-', 'f2']);
    await env.ok(['destroy', '--force', 'vo']);
  });
});
