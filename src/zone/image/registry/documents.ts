// The documents of a pull: manifest lists / OCI indexes, image manifests and
// image configs, each checked with ajv before use (a registry is untrusted:
// a missing field is an error naming the document, never a crash).
import { arch } from 'node:os';
import { lazySchema } from '../../../lazy-schema.js';
import { formatSchemaErrors } from '../../config/validate.js';

export const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
export const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
export const LAYER_TYPES = [
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd',
];
/** Most layers an image may have (Docker's own limit is 127; overlayfs takes ~500 lowerdirs). */
export const MAX_LAYERS = 128;

const descriptor = {
  type: 'object',
  required: ['mediaType', 'digest', 'size'],
  properties: {
    mediaType: { type: 'string' },
    digest: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$' },
    size: { type: 'integer', minimum: 0, maximum: 2 ** 40 },
    platform: { type: 'object', properties: { os: { type: 'string' }, architecture: { type: 'string' }, variant: { type: 'string' } } },
  },
};
const checkIndex = lazySchema({
  type: 'object',
  required: ['schemaVersion', 'manifests'],
  properties: { schemaVersion: { const: 2 }, manifests: { type: 'array', maxItems: 1000, items: descriptor } },
});
const checkManifest = lazySchema({
  type: 'object',
  required: ['schemaVersion', 'config', 'layers'],
  properties: { schemaVersion: { const: 2 }, config: descriptor, layers: { type: 'array', maxItems: MAX_LAYERS, items: descriptor } },
});
const checkConfig = lazySchema({
  type: 'object',
  properties: {
    architecture: { type: 'string' },
    os: { type: 'string' },
    rootfs: { type: 'object', properties: { diff_ids: { type: 'array', items: { type: 'string' } } } },
    config: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            Env: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
            Entrypoint: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
            Cmd: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'null' }] },
            WorkingDir: { type: 'string' },
            User: { type: 'string' },
            ExposedPorts: { anyOf: [{ type: 'object' }, { type: 'null' }] },
            Volumes: { anyOf: [{ type: 'object' }, { type: 'null' }] },
          },
        },
      ],
    },
  },
});

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}
export interface IndexDoc {
  mediaType?: string;
  manifests: Descriptor[];
}
export interface ManifestDoc {
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}
export interface ConfigDoc {
  architecture?: string;
  os?: string;
  rootfs?: { diff_ids?: string[] };
  config?: Record<string, unknown> | null;
}

export class DocumentError extends Error {}

function parse<T>(body: Buffer, what: string, check: ReturnType<typeof lazySchema>): T {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new DocumentError(`${what}: not valid JSON (${(e as Error).message})`);
  }
  if (!check(v)) throw new DocumentError(`${what}: ${formatSchemaErrors(check.errors ?? []).join('; ')}`);
  return v as T;
}

/** Tells an index from a manifest by its mediaType (field or header), else by shape. */
export function isIndex(doc: Buffer, contentType: string | null): boolean {
  const ct = (contentType ?? '').split(';')[0]?.trim() ?? '';
  if (INDEX_TYPES.includes(ct)) return true;
  if (MANIFEST_TYPES.includes(ct)) return false;
  try {
    const v = JSON.parse(doc.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    return (v.mediaType !== undefined && INDEX_TYPES.includes(v.mediaType)) || Array.isArray(v.manifests);
  } catch {
    return false; // parse() reports it
  }
}

export const parseIndex = (b: Buffer, what: string) => parse<IndexDoc>(b, what, checkIndex);
export const parseConfig = (b: Buffer, what: string) => parse<ConfigDoc>(b, what, checkConfig);

export function parseManifest(b: Buffer, what: string): ManifestDoc {
  const m = parse<ManifestDoc>(b, what, checkManifest);
  if (m.mediaType !== undefined && !MANIFEST_TYPES.includes(m.mediaType)) throw new DocumentError(`${what}: media type ${m.mediaType} is not an image manifest`);
  m.layers.forEach((l, i) => {
    if (!LAYER_TYPES.includes(l.mediaType)) throw new DocumentError(`${what}: layer ${i} has media type ${l.mediaType}, not a tar layer lxzone can unpack`);
  });
  return m;
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
export const hostPlatform = (): { os: string; architecture: string } => ({ os: 'linux', architecture: GOARCH[arch()] ?? arch() });

/** The manifest of an index for `want` (default: this host's linux/arch). */
export function choosePlatform(index: IndexDoc, what: string, want = hostPlatform()): Descriptor {
  const hit = index.manifests.find(
    (m) => MANIFEST_TYPES.includes(m.mediaType) && m.platform?.os === want.os && m.platform?.architecture === want.architecture,
  );
  if (hit) return hit;
  const have = index.manifests.map((m) => `${m.platform?.os ?? '?'}/${m.platform?.architecture ?? '?'}`).join(', ');
  throw new DocumentError(`${what}: no image for ${want.os}/${want.architecture} (the index has: ${have || 'nothing'})`);
}
