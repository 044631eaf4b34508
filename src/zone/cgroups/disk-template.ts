// Zone disks copied from a template instead of made by mkfs.ext4 each time
// (issue 16: a second zone of a pulled image created in well under 100 ms).
//
// mkfs.ext4 of a sparse 2 GiB image writes only ~300 KiB, in a dozen
// places; the rest of its cost is a process and its work. So it runs once
// per (size, mkfs options): the template, kept under <state>/disk-templates/
// with the list of its written ranges (filefrag: FIEMAP of the host's
// filesystem). A zone's disk is then a sparse file of the size with those
// ranges copied into it, in this process: no process, ~300 KiB written.
//
// A copy would share the template's filesystem UUID (udev's by-uuid links,
// blkid and fsck tell filesystems apart by it), so every copy gets a fresh
// random one. The template is made with `metadata_csum_seed`: the seed of
// every metadata checksum (group descriptors, inodes, bitmaps, extents) is
// kept in the superblock instead of derived from the UUID, so a new UUID
// changes the superblocks alone: the primary and each backup get the UUID
// and their own checksum (CRC-32C) again. This is what `tune2fs -U` does on
// such a filesystem, without its process. A template that is not such a
// filesystem (magic, features, checksum type) is never patched: the disk is
// then made by mkfs as before.
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { run } from '../network/exec.js';

export interface DiskTemplate {
  /** The template's ext4 image (sparse). */
  image: string;
  size: number;
  /** [offset, length] in bytes of each range mkfs wrote (the rest reads as zeros). */
  ranges: [number, number][];
  /** Byte offsets of the superblocks: the primary (1024) and every backup. */
  superblocks: number[];
}

/** Templates kept at most (one per disk size in use; ~300 KiB each): the oldest go first. */
const MAX_TEMPLATES = 8;

// ext4 superblock fields (offsets inside the 1024-byte superblock).
const SB_SIZE = 1024;
const S_MAGIC = 0x38; // le16 0xEF53
const S_FEATURE_INCOMPAT = 0x60;
const S_FEATURE_RO_COMPAT = 0x64;
const S_UUID = 0x68; // 16 bytes
const S_CHECKSUM_TYPE = 0x175; // 1 = crc32c
const S_CHECKSUM = 0x3fc; // le32 crc32c of bytes [0, 0x3fc)
const INCOMPAT_CSUM_SEED = 0x2000;
const RO_COMPAT_METADATA_CSUM = 0x400;

/** CRC-32C (Castagnoli) as ext4 keeps it: seeded with ~0, not inverted at the end. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

export function ext4Crc32c(seed: number, buf: Uint8Array): number {
  let c = seed >>> 0;
  for (const b of buf) c = CRC32C_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

/** Whether `sb` is an ext4 superblock whose UUID can change alone (metadata_csum with its seed kept). */
function patchable(sb: Buffer): boolean {
  return (
    sb.readUInt16LE(S_MAGIC) === 0xef53 &&
    (sb.readUInt32LE(S_FEATURE_INCOMPAT) & INCOMPAT_CSUM_SEED) !== 0 &&
    (sb.readUInt32LE(S_FEATURE_RO_COMPAT) & RO_COMPAT_METADATA_CSUM) !== 0 &&
    sb[S_CHECKSUM_TYPE] === 1
  );
}

/** Gives the superblock at `sb` the UUID and its checksum again. */
function setUuid(sb: Buffer, uuid: Buffer): void {
  uuid.copy(sb, S_UUID);
  sb.writeUInt32LE(ext4Crc32c(0xffffffff, sb.subarray(0, S_CHECKSUM)), S_CHECKSUM);
}

/** A random (version 4) UUID, as mke2fs makes them. */
function newUuid(): Buffer {
  const u = randomBytes(16);
  u[6] = (u[6]! & 0x0f) | 0x40;
  u[8] = (u[8]! & 0x3f) | 0x80;
  return u;
}

/** The ranges mkfs wrote into `image` (filefrag -e in 1 KiB units; unwritten extents read as zeros and are left out). */
async function writtenRanges(image: string): Promise<[number, number][]> {
  const { stdout } = await run('filefrag', ['-s', '-e', '-b1024', image]);
  const out: [number, number][] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+\d+:\s*(?:\d+:)?\s*(.*)$/.exec(line);
    if (!m) continue;
    if (/\bunwritten\b/.test(m[3]!)) continue;
    const from = Number(m[1]) * 1024;
    out.push([from, (Number(m[2]) + 1) * 1024 - from]);
  }
  if (out.length === 0) throw new LxzoneError(`filefrag found no written range in ${image}`, { code: 'EINVAL', where: image });
  return out;
}

/** The superblocks' byte offsets (dumpe2fs): the primary at 1024, each backup at the start of its block. */
async function superblockOffsets(image: string): Promise<number[]> {
  const { stdout } = await run('dumpe2fs', [image]);
  const bsize = Number(/^Block size:\s+(\d+)/m.exec(stdout)?.[1]);
  const backups = [...stdout.matchAll(/Backup superblock at (\d+)/g)].map((m) => Number(m[1]) * bsize);
  if (!bsize) throw new LxzoneError(`dumpe2fs found no block size in ${image}`, { code: 'EINVAL', where: image });
  return [1024, ...backups];
}

function templateKey(sizeBytes: number, mkfsArgs: string[]): string {
  // The options name the template: another lxzone's options make another one.
  return `ext4-${sizeBytes}-${createHash('sha256').update(mkfsArgs.join('\0')).digest('hex').slice(0, 16)}`;
}

async function loadTemplate(dir: string): Promise<DiskTemplate | undefined> {
  try {
    const t = JSON.parse(await fs.readFile(join(dir, 'template.json'), 'utf8')) as Omit<DiskTemplate, 'image'>;
    return { ...t, image: join(dir, 'disk.img') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The template for disks of `sizeBytes` made by `mkfs(image)` with
 * `mkfsArgs`, made on first use. Concurrent makers each make their own and
 * the first rename wins (a template directory is complete or absent).
 */
export async function diskTemplate(
  templatesDir: string,
  sizeBytes: number,
  mkfsArgs: string[],
  mkfs: (image: string) => Promise<void>,
): Promise<DiskTemplate> {
  const dir = join(templatesDir, templateKey(sizeBytes, mkfsArgs));
  const have = await loadTemplate(dir);
  if (have) return have;
  await fs.mkdir(templatesDir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await fs.mkdir(tmp, { mode: 0o700 });
    const image = join(tmp, 'disk.img');
    await (await fs.open(image, 'wx', 0o600)).close();
    await fs.truncate(image, sizeBytes);
    await mkfs(image);
    const t = { size: sizeBytes, ranges: await writtenRanges(image), superblocks: await superblockOffsets(image) };
    await fs.writeFile(join(tmp, 'template.json'), `${JSON.stringify(t)}\n`, { mode: 0o600 });
    await fs.rename(tmp, dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e; // another maker's is there: the same
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  await pruneTemplates(templatesDir);
  const made = await loadTemplate(dir);
  if (!made) throw new LxzoneError(`disk template ${dir} vanished as it was made`, { code: 'ENOENT', where: dir });
  return made;
}

/** Keeps the MAX_TEMPLATES newest templates (a disk being copied from an older one keeps its open file). */
async function pruneTemplates(templatesDir: string): Promise<void> {
  const names = (await fs.readdir(templatesDir)).filter((n) => n.startsWith('ext4-') && !n.includes('.tmp.'));
  if (names.length <= MAX_TEMPLATES) return;
  const aged = await Promise.all(names.map(async (n) => ({ n, t: (await fs.stat(join(templatesDir, n)).catch(() => undefined))?.mtimeMs ?? 0 })));
  aged.sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(MAX_TEMPLATES)) await fs.rm(join(templatesDir, n), { recursive: true, force: true });
}

/**
 * Writes a new disk image at `target` (which must not exist) from the
 * template: its written ranges, every superblock with a fresh UUID.
 * Returns false, having written nothing, when the template's superblock
 * cannot take a new UUID alone (the caller makes the disk by mkfs).
 */
export async function copyDiskTemplate(t: DiskTemplate, target: string): Promise<boolean> {
  const src = await fs.open(t.image, 'r');
  try {
    const primary = Buffer.alloc(SB_SIZE);
    await src.read(primary, 0, SB_SIZE, 1024);
    if (!patchable(primary)) return false;
    const uuid = newUuid();
    let patched = 0;
    const out = await fs.open(target, 'wx', 0o600);
    try {
      await out.truncate(t.size);
      for (const [off, len] of t.ranges) {
        const buf = Buffer.alloc(len);
        const { bytesRead } = await src.read(buf, 0, len, off);
        if (bytesRead !== len) throw new LxzoneError(`disk template ${t.image}: short read at ${off}`, { code: 'EIO', where: t.image });
        for (const sb of t.superblocks) {
          if (sb >= off && sb + SB_SIZE <= off + len) {
            const view = buf.subarray(sb - off, sb - off + SB_SIZE);
            if (!patchable(view)) throw new LxzoneError(`disk template ${t.image}: no ext4 superblock at ${sb}`, { code: 'EINVAL', where: t.image });
            setUuid(view, uuid);
            patched++;
          }
        }
        await out.write(buf, 0, len, off);
      }
      if (patched !== t.superblocks.length) throw new LxzoneError(`disk template ${t.image}: ${t.superblocks.length - patched} superblock(s) outside its written ranges`, { code: 'EINVAL', where: t.image });
      await out.sync();
    } finally {
      await out.close();
    }
  } finally {
    await src.close();
  }
  return true;
}
