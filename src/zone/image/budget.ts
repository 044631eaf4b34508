// Bounds on what unpacking an image may cost (issue 14.7): a 15 MB archive
// once unpacked to 1 GiB and 100k inodes, taking 19 s and 1.3 GB of memory.
// Every entry is charged before it is written (tar headers carry sizes), so
// an image over budget stops with nothing more written, and unpack.ts
// removes what was:
//   bytes    file content in all                LXZONE_IMAGE_MAX_BYTES  (8 GiB)
//   entries  files, directories, links in all   LXZONE_IMAGE_MAX_FILES  (250 000)
//   ratio    footprint / archive size           LXZONE_IMAGE_MAX_RATIO  (32)
// The footprint counts each entry as a 4 KiB block (its inode and directory
// entry) plus its content rounded up to 4 KiB, so both a file of zeros and
// a flood of empty files show; real root filesystems compress 2-8 times.
// The ratio applies past the first 256 MiB of footprint: a small archive
// may always unpack to that.
import { LxzoneError } from '../../errors.js';

export interface ImageLimits {
  maxBytes: number;
  maxEntries: number;
  maxRatio: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 8 * 2 ** 30, maxEntries: 250_000, maxRatio: 32 };
const BLOCK = 4096;
const RATIO_FLOOR = 256 * 2 ** 20;

const ENV: Record<keyof ImageLimits, string> = {
  maxBytes: 'LXZONE_IMAGE_MAX_BYTES',
  maxEntries: 'LXZONE_IMAGE_MAX_FILES',
  maxRatio: 'LXZONE_IMAGE_MAX_RATIO',
};

/** The defaults, as overridden by LXZONE_IMAGE_MAX_{BYTES,FILES,RATIO} (positive integers). */
export function imageLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): ImageLimits {
  const out = { ...DEFAULT_IMAGE_LIMITS };
  for (const key of Object.keys(ENV) as (keyof ImageLimits)[]) {
    const v = env[ENV[key]];
    if (v === undefined || v === '') continue;
    if (!/^[1-9][0-9]*$/.test(v) || !Number.isSafeInteger(Number(v))) {
      throw new LxzoneError(`${ENV[key]}=${v}: not a positive integer`, { code: 'EINVAL', where: ENV[key], exitCode: 2 });
    }
    out[key] = Number(v);
  }
  return out;
}

/** Refused because the image would cost more than its budget. */
export class ImageBudgetError extends Error {}

export class UnpackBudget {
  bytes = 0;
  entries = 0;
  footprint = 0;

  constructor(
    readonly limits: ImageLimits,
    /** Size of the archive as given (compressed): what the ratio is measured against. */
    readonly archiveBytes: number,
  ) {}

  /** A budget that starts where this one stands (a listing pass that must not spend it). */
  fork(): UnpackBudget {
    const b = new UnpackBudget(this.limits, this.archiveBytes);
    Object.assign(b, { bytes: this.bytes, entries: this.entries, footprint: this.footprint });
    return b;
  }

  /** Charges one entry of `size` content bytes; throws ImageBudgetError when over a limit. */
  charge(size: number): void {
    const s = Math.max(0, size || 0);
    this.bytes += s;
    this.entries += 1;
    this.footprint += BLOCK + Math.ceil(s / BLOCK) * BLOCK;
    const l = this.limits;
    if (this.bytes > l.maxBytes) throw new ImageBudgetError(`the image holds more than ${l.maxBytes} bytes of files (limit: ${ENV.maxBytes})`);
    if (this.entries > l.maxEntries) throw new ImageBudgetError(`the image holds more than ${l.maxEntries} files and directories (limit: ${ENV.maxEntries})`);
    if (this.footprint > RATIO_FLOOR && this.footprint > l.maxRatio * Math.max(1, this.archiveBytes)) {
      throw new ImageBudgetError(
        `the image expands to more than ${l.maxRatio} times its archive's ${this.archiveBytes} bytes (a decompression bomb?; limit: ${ENV.maxRatio})`,
      );
    }
  }
}
