// Issue 14.7: image bombs. A small archive that unpacks to a huge file of
// zeros or to a flood of inodes is refused while unpacking, before the
// damage (bytes, entries and expansion are charged from each entry's header,
// before it is written), with a clear error and nothing left behind; through
// the API and through `lxzone create --image`.
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { LxzoneError } from '../src/errors.js';
import { DEFAULT_IMAGE_LIMITS, imageLimitsFromEnv } from '../src/zone/image/budget.js';
import { unpackImage } from '../src/zone/image/index.js';
import { makeTar } from './support/handmade-tar.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';

const env = useLifecycleEnv(96);
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function header(path: string, size: number): Buffer {
  const b = Buffer.alloc(512);
  new tar.Header({ path, type: 'File', mode: 0o644, uid: 0, gid: 0, size, mtime: new Date(1_700_000_000_000) } as ConstructorParameters<typeof tar.Header>[0]).encode(b, 0);
  return b;
}

/** A gzip'd tar holding one file of `size` zero bytes: about 1 MB per GiB. */
async function zeroBomb(file: string, size: number): Promise<void> {
  const chunk = Buffer.alloc(1 << 20);
  async function* body() {
    yield header('var/zeros', size);
    for (let left = size; left > 0; left -= chunk.length) yield left >= chunk.length ? chunk : chunk.subarray(0, left);
    yield Buffer.alloc((512 - (size % 512)) % 512 + 1024);
  }
  await pipeline(Readable.from(body()), createGzip({ level: 1 }), createWriteStream(file));
}

/** A gzip'd tar of `n` empty files: a few MB for hundreds of thousands of inodes. */
function inodeBomb(file: string, n: number): void {
  const blocks: Buffer[] = [];
  for (let i = 0; i < n; i++) blocks.push(header(`d${i % 64}/f${i}`, 0));
  // (120 000 inodes: 480 MB of footprint, past the 256 MiB floor)
  blocks.push(Buffer.alloc(1024));
  writeFileSync(file, gzipSync(Buffer.concat(blocks)));
}

function workDir(): string {
  const d = mkdtempSync('/tmp/lxz96-');
  dirs.push(d);
  return d;
}

function refusedUnpack(archive: string, opts = {}): LxzoneError {
  const dir = join(archive, '..');
  let err: unknown;
  try {
    unpackImage(archive, join(dir, 'root'), opts);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LxzoneError);
  // Nothing left behind: no destination, no temp directory beside it.
  expect(readdirSync(dir)).toEqual([archive.slice(dir.length + 1)]);
  return err as LxzoneError;
}

describe('unpackImage() against bombs', () => {
  it('refuses 512 MiB of zeros in a ~0.5 MB archive (expansion) before writing it', async () => {
    const dir = workDir();
    const archive = join(dir, 'zeros.tar.gz');
    await zeroBomb(archive, 2 ** 29);
    expect(statSync(archive).size).toBeLessThan(8 << 20);
    const e = refusedUnpack(archive);
    expect(e.code).toBe('EFBIG');
    expect(e.message).toMatch(/entry "var\/zeros": the image expands to more than 32 times its archive's \d+ bytes \(a decompression bomb\?; limit: LXZONE_IMAGE_MAX_RATIO\)/);
  });

  it('refuses 120 000 empty files in a few MB (inodes count in the expansion)', () => {
    const dir = workDir();
    const archive = join(dir, 'inodes.tar.gz');
    inodeBomb(archive, 120_000);
    expect(statSync(archive).size).toBeLessThan(8 << 20);
    const e = refusedUnpack(archive);
    expect(e.code).toBe('EFBIG');
    expect(e.message).toMatch(/the image expands to more than 32 times/);
  });

  it('bounds entries and bytes in all, also in an uncompressed archive (no ratio to see)', () => {
    const dir = workDir();
    const archive = join(dir, 'many.tar');
    writeFileSync(archive, makeTar(Array.from({ length: 1001 }, (_, i) => ({ path: `f${i}`, body: 'x' }))));
    expect(refusedUnpack(archive, { idShift: null, limits: { maxEntries: 1000 } }).message).toMatch(
      /entry "f1000": the image holds more than 1000 files and directories \(limit: LXZONE_IMAGE_MAX_FILES\)/,
    );
    expect(refusedUnpack(archive, { idShift: null, limits: { maxBytes: 500 } }).message).toMatch(
      /entry "f500": the image holds more than 500 bytes of files \(limit: LXZONE_IMAGE_MAX_BYTES\)/,
    );
    // Under the defaults it unpacks.
    const r = unpackImage(archive, join(dir, 'root'), { idShift: null });
    expect(readdirSync(r.rootfs)).toHaveLength(1001);
  });

  it('reads its limits from LXZONE_IMAGE_MAX_{BYTES,FILES,RATIO}, refusing nonsense', () => {
    expect(imageLimitsFromEnv({})).toEqual(DEFAULT_IMAGE_LIMITS);
    expect(imageLimitsFromEnv({ LXZONE_IMAGE_MAX_FILES: '10', LXZONE_IMAGE_MAX_RATIO: '4' })).toMatchObject({ maxEntries: 10, maxRatio: 4 });
    expect(() => imageLimitsFromEnv({ LXZONE_IMAGE_MAX_BYTES: '1e9' })).toThrow(/LXZONE_IMAGE_MAX_BYTES=1e9: not a positive integer/);
  });
});

describe('lxzone create --image with a bomb', () => {
  it('is refused with the reason, exit 1, no stack trace, and no zone or unpack directory stays', async () => {
    const dir = workDir();
    const archive = join(dir, 'zeros.tar.gz');
    await zeroBomb(archive, 2 ** 29);
    const r = await env.cli(['create', 'bomb', '--image', archive, '--', '/bin/true'], { timeoutMs: 120_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/expands to more than 32 times its archive's/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect((await env.list()).map((z) => z.name)).not.toContain('bomb');
    const zones = join(env.stateDir, 'zones');
    expect(existsSync(zones) ? readdirSync(zones) : []).toEqual([]);
  });
});
