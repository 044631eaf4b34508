// `docker pull` (POST /images/create?fromImage=NAME&tag=TAG): lxzone's own
// pull (src/zone/image/registry/pull.ts) into the image store, its events
// streamed as Docker's JSON progress messages ({"status", "id",
// "progressDetail"}). As dockerd does, the answer's headers wait for the
// first event: a pull that fails before anything was said (a bad reference,
// a manifest the registry does not have, credentials refused) is a plain
// HTTP error the client prints; a failure after that is an
// {"error", "errorDetail"} message in the stream.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pullImage, type PullEvent } from '../../zone/image/registry/pull.js';
import { formatImageRef, parseImageRef, shortImageRef, type ImageRef } from '../../zone/image/store/reference.js';
import type { DockerBackend } from './backend.js';
import type { Ctx } from './context.js';
import { badRequest, toDockerError } from './errors.js';

/** Progress lines of one layer at most this often (the client redraws on each). */
const PROGRESS_EVERY_MS = 500;

const shortId = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12);

/** fromImage + tag as one reference; a tag that is a digest pins it (docker pull NAME@sha256:…). */
export function pullRef(fromImage: string | null, tag: string | null): ImageRef {
  if (!fromImage) throw badRequest('fromImage is required (lxzone cannot import an image from a tarball URL: use lxzone image import)');
  let ref = fromImage;
  if (tag && !fromImage.includes('@')) ref = tag.startsWith('sha256:') ? `${fromImage}@${tag}` : `${fromImage}:${tag}`;
  try {
    return parseImageRef(ref);
  } catch (e) {
    throw badRequest(`invalid reference format: ${(e as Error).message}`);
  }
}

/**
 * The credentials the client sent (X-Registry-Auth: base64url JSON with
 * username/password), as a private DOCKER_CONFIG for this one pull; nothing
 * when it sent none (the daemon's own DOCKER_CONFIG then applies).
 */
function clientCredentials(ctx: Ctx, registry: string, runtimeDir: string): { env?: NodeJS.ProcessEnv; cleanup(): void } {
  const header = ctx.req.headers['x-registry-auth'];
  if (typeof header !== 'string' || header === '') return { cleanup: () => undefined };
  let auth: { username?: unknown; password?: unknown };
  try {
    auth = JSON.parse(Buffer.from(header.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as typeof auth;
  } catch {
    throw badRequest('X-Registry-Auth is not base64-encoded JSON');
  }
  if (typeof auth.username !== 'string' || typeof auth.password !== 'string' || auth.username === '') return { cleanup: () => undefined };
  const dir = mkdtempSync(join(runtimeDir, 'docker-auth-'));
  const key = registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [key]: { auth: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') } } }), { mode: 0o600 });
  return { env: { ...process.env, DOCKER_CONFIG: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One pull event as Docker's progress messages. */
function messages(e: PullEvent, ref: ImageRef, lastProgress: Map<string, number>): object[] {
  switch (e.type) {
    case 'resolved':
      return [{ status: `Pulling from ${ref.repository}`, id: ref.tag ?? ref.digest ?? 'latest' }];
    case 'warning':
      return [{ status: `warning: ${e.message}` }];
    case 'done':
      return [{ status: `Digest: ${e.digest}` }];
    case 'layer': {
      const id = shortId(e.digest);
      switch (e.status) {
        case 'exists':
          return [{ status: 'Already exists', progressDetail: {}, id }];
        case 'waiting':
          return [{ status: 'Pulling fs layer', progressDetail: {}, id }];
        case 'downloading': {
          const now = Date.now();
          if (e.done !== 0 && now - (lastProgress.get(id) ?? 0) < PROGRESS_EVERY_MS) return [];
          lastProgress.set(id, now);
          return [{ status: 'Downloading', progressDetail: { current: e.done, total: e.total }, id }];
        }
        case 'downloaded':
          return [{ status: 'Download complete', progressDetail: {}, id }];
        case 'unpacking':
          return [{ status: 'Extracting', progressDetail: { current: e.total, total: e.total }, id }];
        case 'ready':
          return [{ status: 'Pull complete', progressDetail: {}, id }];
      }
    }
  }
  return [];
}

export async function pullHandler(b: DockerBackend, ctx: Ctx): Promise<undefined> {
  const ref = pullRef(ctx.query.get('fromImage'), ctx.query.get('tag'));
  const canonical = formatImageRef(ref);
  const before = b.images.store.resolve(canonical)?.digest;
  const creds = clientCredentials(ctx, ref.registry, b.opts.store.runtimeDir);
  const res = ctx.res!;
  const lastProgress = new Map<string, number>();
  const send = (m: object) => {
    if (!res.headersSent) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
    }
    if (!res.destroyed) res.write(`${JSON.stringify(m)}\n`);
  };
  try {
    const rec = await pullImage(b.images.store, ref, {
      ...(creds.env ? { env: creds.env } : {}),
      onEvent: (e) => {
        for (const m of messages(e, ref, lastProgress)) send(m);
      },
    });
    const name = shortImageRef(canonical);
    b.events.emit('image', 'pull', shortImageRef(canonical), { name: shortImageRef(canonical) });
    send({ status: before === rec.digest ? `Status: Image is up to date for ${name}` : `Status: Downloaded newer image for ${name}` });
    res.end();
  } catch (e) {
    if (!res.headersSent) throw e; // nothing said yet: a plain HTTP error
    const message = toDockerError(e).message;
    send({ errorDetail: { message }, error: message });
    res.end();
  } finally {
    creds.cleanup();
  }
  return undefined;
}
