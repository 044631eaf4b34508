// An image archive built offline for containerd (`ctr image import`) and
// dockerd (`docker load`): the `docker save` layout (manifest.json, the
// image config, one layer tar), which both import. The layer is
// makeBusyboxRoot()'s tree.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { makeBusyboxRoot, ownTempDir } from './zones.js';

const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Writes `<dir>/<file>` for REF (e.g. "lxzone.test/busybox:1"), CMD its default command; returns its path. */
export function makeImageArchive(dir: string, ref: string, cmd: string[] = ['/bin/sh'], file = 'image.tar'): string {
  const root = makeBusyboxRoot('lxzone-img-root-');
  const stage = ownTempDir(mkdtempSync(join(dir, 'stage-')));
  try {
    const layerFile = join(stage, 'layer.tar');
    tar.c({ file: layerFile, cwd: root, sync: true, portable: true }, ['.']);
    const layer = readFileSync(layerFile);
    const diffId = sha256(layer);
    mkdirSync(join(stage, diffId));
    writeFileSync(join(stage, diffId, 'layer.tar'), layer);
    rmSync(layerFile);
    const config = JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '2026-01-01T00:00:00Z',
      config: { Cmd: cmd, Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created: '2026-01-01T00:00:00Z', created_by: 'lxzone test: busybox tree' }],
    });
    const configName = `${sha256(config)}.json`;
    writeFileSync(join(stage, configName), config);
    writeFileSync(join(stage, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: [`${diffId}/layer.tar`] }]));
    const archive = join(dir, file);
    tar.c({ file: archive, cwd: stage, sync: true, portable: true }, ['manifest.json', configName, diffId]);
    return archive;
  } finally {
    rmSync(stage, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
}
