// Image references, Docker's grammar (distribution/reference): 
//   [HOST[:PORT]/]PATH[:TAG][@sha256:HEX]
// The first component is a registry host when it has a '.' or a ':' or is
// "localhost"; otherwise the image is Docker Hub's (docker.io, "library/"
// for a one-component path). Parsed once, here; everything after takes an
// ImageRef. A reference is refused with a message naming what was wrong.
import { LxzoneError } from '../../../errors.js';

export interface ImageRef {
  /** Registry host[:port] as written (docker.io for Docker Hub). */
  registry: string;
  /** Repository path inside the registry (library/busybox). */
  repository: string;
  tag?: string;
  /** sha256:HEX when the reference pins a manifest. */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;

function bad(ref: string, why: string): LxzoneError {
  return new LxzoneError(`image reference "${ref}": ${why}`, { code: 'EINVAL', where: ref, exitCode: 2 });
}

export function parseImageRef(ref: string): ImageRef {
  if (ref === '' || ref.length > 512) throw bad(ref, 'must be 1 to 512 characters');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `digest "${digest}" is not sha256: followed by 64 lowercase hex digits`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `tag "${tag}" must match ${TAG.source}`);
  }
  const parts = rest.split('/');
  let registry = 'docker.io';
  const first = parts[0] as string;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    if (!HOST.test(first)) throw bad(ref, `registry "${first}" is not a host name or host:port`);
    registry = first;
    parts.shift();
  }
  if (parts.length === 0 || parts.some((p) => !COMPONENT.test(p))) {
    throw bad(ref, 'the repository must be lowercase components (a-z, 0-9, separated by . _ __ or -) joined by /');
  }
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const out: ImageRef = { registry, repository: parts.join('/') };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  if (tag === undefined && digest === undefined) out.tag = 'latest';
  return out;
}

/** The canonical name the store files a reference under: HOST/PATH:TAG or HOST/PATH@DIGEST. */
export function formatImageRef(r: ImageRef): string {
  const name = `${r.registry}/${r.repository}`;
  return r.digest !== undefined ? `${name}@${r.digest}` : `${name}:${r.tag ?? 'latest'}`;
}

/** The short form users type (docker.io/library/ dropped). */
export function shortImageRef(canonical: string): string {
  return canonical.replace(/^docker\.io\/library\//, '').replace(/^docker\.io\//, '');
}
