// Tarballs written header by header, so a test can say anything an attacker's
// archive could (traversal, links out, devices, odd owners): tar's own packer
// refuses to write most of it.
import * as tar from 'tar';

export interface TarEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';
  body?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  linkpath?: string;
}

export function makeTar(entries: TarEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const h = new tar.Header({
      path: e.path,
      type,
      mode: e.mode ?? (type === 'Directory' ? 0o755 : 0o644),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: type === 'File' ? body.length : 0,
      mtime: new Date(1_700_000_000_000),
      linkpath: e.linkpath,
      devmaj: type.endsWith('Device') ? 1 : undefined,
      devmin: type.endsWith('Device') ? 3 : undefined,
    } as ConstructorParameters<typeof tar.Header>[0]);
    const hb = Buffer.alloc(512);
    h.encode(hb, 0);
    blocks.push(hb);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
