// Reading the metadata of `docker save` and OCI image-layout archives once
// the outer archive is on disk (in `dir`). Every file is validated with ajv
// before use, every path it names is resolved inside `dir` (a manifest that
// names ../../etc/shadow as a layer gets nothing from outside), and OCI blobs
// are checked against their digests.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { arch } from 'node:os';
import { lazySchema, type LazyValidator } from '../../lazy-schema.js';
import { formatSchemaErrors } from '../config/validate.js';
import { resolveInRoot } from '../config/in-root.js';
import { entryRelPath } from './entry-path.js';
import { hashFile } from './hash-file.js';

export class ImageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFormatError';
  }
}

/** What the image says the zone should run (both formats use this shape). */
export interface ImageConfig {
  env?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  /** ExposedPorts, as the image gives them ("80/tcp", "53/udp"): recorded and shown; lxzone publishes no host port. */
  exposedPorts?: string[];
  /** Volumes: absolute paths that get a directory of the zone's own on its disk (src/zone/image/store/volumes.ts). */
  volumes?: string[];
}

export interface ImageLayout {
  /** Host paths of the layer tarballs, lowest first. */
  layers: string[];
  config?: ImageConfig;
  /** Tags (docker) or ref names (OCI) of the chosen image. */
  refs: string[];
  /** Host path of the image's config file (the image store keeps it as a blob). */
  configFile: string;
}

const MANIFEST_OPTIONS = { allErrors: true, verbose: true };
const strings = { type: 'array', items: { type: 'string' } };
const descriptor = {
  type: 'object',
  required: ['digest'],
  properties: {
    mediaType: { type: 'string' },
    digest: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$' },
    size: { type: 'integer', minimum: 0 },
    platform: { type: 'object' },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};
const checkDockerManifest = lazySchema({
  type: 'array',
  minItems: 1,
  items: {
    type: 'object',
    required: ['Config', 'Layers'],
    properties: { Config: { type: 'string' }, RepoTags: { anyOf: [strings, { type: 'null' }] }, Layers: strings },
  },
}, MANIFEST_OPTIONS);
const checkIndex = lazySchema({
  type: 'object',
  required: ['manifests'],
  properties: { manifests: { type: 'array', minItems: 1, items: descriptor } },
}, MANIFEST_OPTIONS);
const checkManifest = lazySchema({
  type: 'object',
  required: ['config', 'layers'],
  properties: { config: descriptor, layers: { type: 'array', items: descriptor } },
}, MANIFEST_OPTIONS);
const checkConfig = lazySchema({
  type: 'object',
  properties: {
    config: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            Env: { anyOf: [strings, { type: 'null' }] },
            Entrypoint: { anyOf: [strings, { type: 'null' }] },
            Cmd: { anyOf: [strings, { type: 'null' }] },
            WorkingDir: { type: 'string' },
            User: { type: 'string' },
            ExposedPorts: { anyOf: [{ type: 'object' }, { type: 'null' }] },
            Volumes: { anyOf: [{ type: 'object' }, { type: 'null' }] },
          },
        },
      ],
    },
  },
}, MANIFEST_OPTIONS);

function readJson(dir: string, rel: string, what: string, check: LazyValidator): unknown {
  const path = fileIn(dir, rel, what);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ImageFormatError(`${what} ${rel}: not valid JSON: ${(e as Error).message}`);
  }
  if (!check(v)) throw new ImageFormatError(`${what} ${rel}: ${formatSchemaErrors(check.errors ?? []).join('; ')}`);
  return v;
}

/** Host path of a file named by the archive's metadata, confined to `dir`. */
function fileIn(dir: string, rel: string, what: string): string {
  let clean: string;
  try {
    clean = entryRelPath(rel);
  } catch (e) {
    throw new ImageFormatError(`${what} "${rel}": ${(e as Error).message.replace(/^entry "[^"]*": /, '')}`);
  }
  let host: string;
  try {
    host = resolveInRoot(dir, clean);
  } catch {
    throw new ImageFormatError(`${what} "${rel}" is missing from the archive`);
  }
  if (!statSync(host).isFile()) throw new ImageFormatError(`${what} "${rel}" is not a file`);
  return host;
}

export function imageConfig(raw: unknown): ImageConfig | undefined {
  const c = (raw as { config?: Record<string, unknown> | null }).config;
  if (!c) return undefined;
  const out: ImageConfig = {};
  if (Array.isArray(c.Env)) {
    out.env = {};
    for (const kv of c.Env as string[]) {
      const eq = kv.indexOf('=');
      if (eq > 0) out.env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
  }
  if (Array.isArray(c.Entrypoint)) out.entrypoint = c.Entrypoint as string[];
  if (Array.isArray(c.Cmd)) out.cmd = c.Cmd as string[];
  if (typeof c.WorkingDir === 'string' && c.WorkingDir !== '') out.workingDir = c.WorkingDir;
  if (typeof c.User === 'string' && c.User !== '') out.user = c.User;
  // Docker writes both as objects whose keys are the values ({"80/tcp": {}}).
  if (c.ExposedPorts !== null && typeof c.ExposedPorts === 'object') {
    const ports = Object.keys(c.ExposedPorts).filter((p) => /^[0-9]{1,5}(\/(tcp|udp|sctp))?$/.test(p));
    if (ports.length > 0) out.exposedPorts = ports.map((p) => (p.includes('/') ? p : `${p}/tcp`)).sort();
  }
  if (c.Volumes !== null && typeof c.Volumes === 'object') {
    const vols = Object.keys(c.Volumes);
    if (vols.length > 0) out.volumes = vols.sort();
  }
  return out;
}

/** `docker save`: manifest.json lists, per image, its config file and layer tarballs. */
export function readDockerLayout(dir: string, ref?: string): ImageLayout {
  const list = readJson(dir, 'manifest.json', 'docker manifest', checkDockerManifest) as {
    Config: string;
    RepoTags?: string[] | null;
    Layers: string[];
  }[];
  let image = list[0] as (typeof list)[number];
  if (ref !== undefined) {
    const found = list.find((m) => (m.RepoTags ?? []).includes(ref));
    if (!found) throw new ImageFormatError(`no image tagged "${ref}" in the archive (it has: ${list.flatMap((m) => m.RepoTags ?? []).join(', ') || 'no tags'})`);
    image = found;
  } else if (list.length > 1) {
    throw new ImageFormatError(`the archive holds ${list.length} images; choose one with rootfs.ref (${list.flatMap((m) => m.RepoTags ?? []).join(', ')})`);
  }
  const config = imageConfig(readJson(dir, image.Config, 'image config', checkConfig));
  return {
    layers: image.Layers.map((l, i) => fileIn(dir, l, `layer ${i}`)),
    config,
    refs: image.RepoTags ?? [],
    configFile: fileIn(dir, image.Config, 'image config'),
  };
}

type Descriptor = { mediaType?: string; digest: string; platform?: { os?: string; architecture?: string }; annotations?: Record<string, string> };


/** blobs/<alg>/<hex>, its content checked against the digest. */
function blob(dir: string, d: Descriptor, what: string): string {
  const [alg, hex] = d.digest.split(':') as [string, string];
  const path = fileIn(dir, `blobs/${alg}/${hex}`, what);
  if (hashFile(path, createHash(alg)).digest('hex') !== hex) throw new ImageFormatError(`${what} ${d.digest}: content does not match its digest`);
  return path;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const REF_KEYS = ['org.opencontainers.image.ref.name', 'io.containerd.image.name'];

/** OCI image layout: index.json -> (nested indexes) -> manifest -> config + layers. */
export function readOciLayout(dir: string, ref?: string): ImageLayout {
  let index = readJson(dir, 'index.json', 'OCI index', checkIndex) as { manifests: Descriptor[] };
  let refs: string[] = [];
  for (let depth = 0; depth < 4; depth++) {
    let cands = index.manifests;
    if (ref !== undefined && depth === 0) {
      cands = cands.filter((m) => REF_KEYS.some((k) => m.annotations?.[k] === ref || m.annotations?.[k]?.endsWith(`:${ref}`)));
      if (cands.length === 0) throw new ImageFormatError(`no image named "${ref}" in the OCI index`);
    }
    const want = GOARCH[arch()] ?? arch();
    const forHost = cands.filter((m) => !m.platform || (m.platform.os === 'linux' && m.platform.architecture === want));
    if (forHost.length === 0) throw new ImageFormatError(`the OCI index has no image for linux/${want}`);
    if (forHost.length > 1 && ref === undefined && depth === 0 && forHost.every((m) => !m.platform)) {
      throw new ImageFormatError(`the OCI index holds ${forHost.length} images; choose one with rootfs.ref`);
    }
    const d = forHost[0] as Descriptor;
    if (depth === 0) refs = REF_KEYS.map((k) => d.annotations?.[k]).filter((x): x is string => x !== undefined);
    const path = blob(dir, d, 'OCI manifest');
    if (d.mediaType !== undefined && INDEX_TYPES.includes(d.mediaType)) {
      index = readJson(dir, path.slice(dir.length + 1), 'OCI index', checkIndex) as { manifests: Descriptor[] };
      continue;
    }
    const m = readJson(dir, path.slice(dir.length + 1), 'OCI manifest', checkManifest) as { config: Descriptor; layers: Descriptor[] };
    const cfgPath = blob(dir, m.config, 'image config');
    const config = imageConfig(readJson(dir, cfgPath.slice(dir.length + 1), 'image config', checkConfig));
    return { layers: m.layers.map((l, i) => blob(dir, l, `layer ${i}`)), config, refs, configFile: cfgPath };
  }
  throw new ImageFormatError('OCI indexes nested too deeply');
}
