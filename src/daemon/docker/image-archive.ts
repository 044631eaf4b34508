// Images in and out of the store as archives, through Docker's endpoints:
//   docker save   GET /images/get?names=… and /images/NAME/get: a
//                 docker-archive tar (manifest.json, <config hex>.json,
//                 <layer hex>/layer.tar; the layers as the registry gave
//                 them, gzip or zstd, which `docker load` accepts), streamed
//   docker load   POST /images/load: the body (a docker-archive, an OCI
//                 layout tar such as `lxzone image save` writes, or either
//                 gzipped) through `lxzone image import`'s checks
//   docker import POST /images/create?fromSrc=-: the body as a one-layer
//                 image (a rootfs tar), filed under repo[:tag]
// A body is written to a temp file in the store (0700, root's) first: the
// archive readers need a file, and the budget of unpack.ts bounds what it
// may expand to. Nothing of a refused archive is left behind.
import { randomBytes } from 'node:crypto';
import { createWriteStream, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { imageLimitsFromEnv } from '../../zone/image/budget.js';
import { importArchive } from '../../zone/image/store/archive.js';
import type { ImageRecord } from '../../zone/image/store/images.js';
import { formatImageRef, parseImageRef, shortImageRef } from '../../zone/image/store/reference.js';
import { removeTree } from '../../zone/state/remove-tree.js';
import type { DockerBackend } from './backend.js';
import type { Ctx } from './context.js';
import { badRequest, DockerError, notImplemented } from './errors.js';

const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

/** The names of `rec` to write into the archive's RepoTags: the one asked for when it is a tag, else all its tags. */
function repoTags(b: DockerBackend, rec: ImageRecord, asked: string): string[] {
  const tags = Object.entries(b.images.store.refs()).filter(([r, d]) => d === rec.digest && !r.includes('@')).map(([r]) => r);
  let canonical: string | undefined;
  try {
    canonical = formatImageRef(parseImageRef(asked));
  } catch {
    canonical = undefined; // an id: every tag
  }
  return (canonical !== undefined && tags.includes(canonical) ? [canonical] : tags).map(shortImageRef).sort();
}

/** `docker save NAME...`: the images as one docker-archive tar, streamed as the answer. */
export async function saveHandler(b: DockerBackend, ctx: Ctx, names: string[]): Promise<undefined> {
  if (names.length === 0) throw badRequest('no image names given');
  const entries = new Map<string, { rec: ImageRecord; tags: Set<string> }>();
  for (const n of names) {
    const i = b.images.get(n);
    if (i.kind === 'host') throw new DockerError(400, 'the image "host" is the host\'s root: it cannot be saved');
    const e = entries.get(i.record.digest) ?? { rec: i.record, tags: new Set<string>() };
    for (const t of repoTags(b, i.record, n)) e.tags.add(t);
    entries.set(i.record.digest, e);
  }
  const store = b.images.store;
  // Hard links beside the blobs (the same filesystem), removed once the tar is sent.
  const work = join(store.dir, `.docker-save-${randomBytes(4).toString('hex')}`);
  mkdirSync(work, { mode: 0o700 });
  try {
    const files = new Set<string>(['manifest.json']);
    const manifest = [...entries.values()].map(({ rec, tags }) => {
      const config = `${hexOf(rec.config)}.json`;
      if (!files.has(config)) linkSync(store.blobs.path(rec.config), join(work, config));
      files.add(config);
      const layers = rec.layers.map((l) => {
        const dir = hexOf(l.digest);
        if (!files.has(dir)) {
          mkdirSync(join(work, dir), { mode: 0o700 });
          linkSync(store.blobs.path(l.digest), join(work, dir, 'layer.tar'));
        }
        files.add(dir);
        return `${dir}/layer.tar`;
      });
      return { Config: config, RepoTags: tags.size > 0 ? [...tags] : null, Layers: layers };
    });
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipeline(tar.c({ cwd: work, portable: true, noMtime: true }, [...files]), res);
    b.events.emit('image', 'save', names.join(','), { name: names.join(',') });
  } finally {
    removeTree(work);
  }
  return undefined;
}

/** The request body into a temp file in the store, refused past the image budget's size (LXZONE_IMAGE_MAX_BYTES). */
async function bodyToFile(b: DockerBackend, ctx: Ctx, what: string): Promise<string> {
  const file = join(b.images.store.dir, `.docker-${what}-${randomBytes(4).toString('hex')}.tar`);
  const max = imageLimitsFromEnv().maxBytes;
  let size = 0;
  try {
    await pipeline(
      ctx.req,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          size += chunk.length;
          if (size > max) throw badRequest(`the ${what} archive is larger than ${max} bytes (limit: LXZONE_IMAGE_MAX_BYTES)`);
          yield chunk;
        }
      },
      createWriteStream(file, { mode: 0o600 }),
    );
  } catch (e) {
    rmSync(file, { force: true });
    throw e;
  }
  if (size === 0) {
    rmSync(file, { force: true });
    throw badRequest(`no ${what} archive in the request body`);
  }
  return file;
}

/** Answer with Docker's JSON message stream (what `docker load`/`import` print). */
function stream(ctx: Ctx, messages: object[]): undefined {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(messages.map((m) => `${JSON.stringify(m)}\n`).join(''));
  return undefined;
}

/** `docker load [-i FILE]`: POST /images/load. */
export async function loadHandler(b: DockerBackend, ctx: Ctx): Promise<undefined> {
  const file = await bodyToFile(b, ctx, 'load');
  try {
    const r = await importArchive(b.images.store, file).catch((e: unknown) => {
      // The temp file's name says nothing to the client: "the archive" does.
      if (e instanceof Error) e.message = e.message.replace(`image ${file}: `, 'docker load: ');
      throw e;
    });
    for (const ref of r.refs) b.events.emit('image', 'load', ref, { name: ref });
    const lines = r.refs.length > 0 ? r.refs.map((ref) => `Loaded image: ${ref}\n`) : [`Loaded image ID: ${r.record.config}\n`];
    return stream(ctx, lines.map((l) => ({ stream: l })));
  } finally {
    rmSync(file, { force: true });
  }
}

/** `docker import FILE|- [REPO[:TAG]]`: POST /images/create?fromSrc=-&repo=&tag=. */
export async function importHandler(b: DockerBackend, ctx: Ctx): Promise<undefined> {
  if (ctx.query.get('fromSrc') !== '-') throw notImplemented('docker import from a URL is not supported by lxzone: download it, then docker import FILE');
  if (ctx.query.getAll('changes').some((c) => c !== '')) throw notImplemented('docker import --change is not supported by lxzone (the image gets no Cmd, Env, …; set them at docker run)');
  const repo = ctx.query.get('repo') ?? '';
  const tag = ctx.query.get('tag') ?? '';
  let ref: string | undefined;
  if (repo !== '') {
    ref = tag !== '' ? `${repo}:${tag}` : repo;
    try {
      parseImageRef(ref);
    } catch (e) {
      throw badRequest(`invalid reference format: ${(e as Error).message}`);
    }
  }
  const file = await bodyToFile(b, ctx, 'import');
  try {
    const r = await importArchive(b.images.store, file, ref).catch((e: unknown) => {
      if (e instanceof Error) e.message = e.message.replace(`image ${file}: `, 'docker import: ');
      throw e;
    });
    b.events.emit('image', 'import', r.record.config, { name: r.refs[0] ?? r.record.config });
    return stream(ctx, [{ status: r.record.config }]);
  } finally {
    rmSync(file, { force: true });
  }
}
