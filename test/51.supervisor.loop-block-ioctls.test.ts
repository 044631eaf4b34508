// The block-device ioctls on a zone's own /dev/loopN (issue 21 part 1,
// native/supervisor/handlers/loop_block.cc): size, sector and block sizes,
// read-only flag, discard and zero-out in the backing file, as the loop
// driver answers them; another fd (the host's /dev/null) still gets the
// host's ENOTTY, and a zone user is refused. The tools are util-linux's
// (losetup, blockdev) and python3, as a program would call them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

async function inZone(script: string): Promise<string[]> {
  const r = await runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe' });
  expect(r.exitCode, `${r.stdout?.toString()}${r.stderr?.toString()}`).toBe(0);
  return (r.stdout ?? Buffer.alloc(0)).toString().trim().split('\n');
}

// BLKDISCARD / BLKZEROOUT of the first 64 KiB of /dev/loop0, each made of
// 0xff bytes first; prints the first byte of the range and the one after it.
const DISCARD = `
import fcntl, os, struct, sys
cmd = {"discard": 0x1277, "zeroout": 0x127f}[sys.argv[1]]
fd = os.open("/dev/loop0", os.O_RDWR)
os.pwrite(fd, b"\\xff" * 65536, 0)
os.fsync(fd)
try:
    fcntl.ioctl(fd, cmd, struct.pack("QQ", 0, 65536))
    print(sys.argv[1], "ok", os.pread(fd, 1, 0).hex(), os.pread(fd, 1, 65536).hex())
except OSError as e:
    print(sys.argv[1], "errno", e.errno)
try:
    fcntl.ioctl(fd, cmd, struct.pack("QQ", 1, 512))
except OSError as e:
    print("unaligned errno", e.errno)
`;

describe("block-device ioctls on a zone's loop devices", () => {
  it('answer size, sector size, block size and read-only from the backing file', async () => {
    const out = await inZone(
      'truncate -s 8M /tmp/img && truncate -s 1M /tmp/small && losetup /dev/loop0 /tmp/img && losetup -r /dev/loop1 /tmp/small && ' +
        'blockdev --getsize64 --getsz --getss --getpbsz --getbsz --getro --getiomin --getioopt --getalignoff /dev/loop0 && ' +
        'blockdev --getsize64 --getro /dev/loop1 && blockdev --getsize64 /dev/loop2 && ' +
        '(blockdev --rereadpt /dev/loop0 2>/dev/null || echo rereadpt refused) && ' +
        '(blockdev --getsize64 /dev/null 2>/dev/null || echo null refused)',
    );
    expect(out).toEqual([
      '8388608', '16384', '512', '512', '4096', '0', '512', '0', '0',
      '1048576', '1',
      '0',
      'rereadpt refused',
      'null refused',
    ]);
  });

  it('discard and zero out a range of the backing file, sector-aligned only', async () => {
    const out = await inZone(
      "head -c 1048576 /dev/zero | tr '\\0' '\\377' > /tmp/img && losetup /dev/loop0 /tmp/img && " +
        `python3 -c '${DISCARD}' discard && python3 -c '${DISCARD}' zeroout && ` +
        // The image itself: its first bytes zero, the rest untouched.
        'od -An -tx1 -N1 /tmp/img && od -An -tx1 -j65536 -N1 /tmp/img',
    );
    expect(out.map((l) => l.trim())).toEqual([
      'discard ok 00 ff', 'unaligned errno 22',
      'zeroout ok 00 ff', 'unaligned errno 22',
      '00', 'ff',
    ]);
  });

  it("refuse a zone user (EPERM), as the device nodes natively are root's", async () => {
    const out = await inZone(
      'truncate -s 1M /tmp/img && losetup /dev/loop0 /tmp/img && ' +
        "setpriv --reuid 65534 --regid 65534 --clear-groups sh -c 'blockdev --getsize64 /dev/loop0 2>&1 || true'",
    );
    expect(out.join(' ')).toMatch(/Operation not permitted|Permission denied/);
  });
});
