#include "loop_block.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>

#include "../tracee_memory.h"

namespace lxz {
namespace {

constexpr uint32_t kSector = 512;  // the loop driver's logical block size unless LOOP_SET_BLOCK_SIZE (a no-op here)

// i386 callers pass size_t-sized commands with a 4-byte size field.
constexpr uint32_t kBlkBszGet32 = _IOR(0x12, 112, uint32_t);
constexpr uint32_t kBlkGetSize64_32 = _IOR(0x12, 114, uint32_t);

uint64_t size_of(const LoopDevice& d) {
  struct stat st;
  if (!d.attached || fstat(d.backing.get(), &st) < 0) return 0;  // an unattached loop device has size 0
  return static_cast<uint64_t>(st.st_size);
}

template <typename T>
Reply put(Call& call, uint64_t arg, T value) {
  int err = write_tracee(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), arg, &value, sizeof value);
  if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
  return Reply::value_of(0);
}

// BLKDISCARD / BLKZEROOUT: a range {start, length} in bytes, sector-aligned,
// inside the device; the loop driver punches or zeroes it in the backing file.
Reply discard(Call& call, const LoopDevice& d, uint64_t arg, int mode) {
  if (!d.attached) return Reply::error_of(ENXIO);
  if (d.read_only) return Reply::error_of(EBADF);  // as for a device opened read-only
  uint64_t range[2];
  int err = read_tracee(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), arg, range, sizeof range);
  if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
  uint64_t start = range[0], len = range[1], size = size_of(d);
  if ((start | len) % kSector || start > size || len > size - start) return Reply::error_of(EINVAL);
  if (!len || fallocate(d.backing.get(), mode | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(start), static_cast<off_t>(len)) == 0)
    return Reply::value_of(0);
  if (errno != EOPNOTSUPP) return Reply::error_of(EIO);
  // A file system that cannot zero a range in place (tmpfs): a punched hole
  // reads as zeroes too. The supervisor never writes the zeroes itself: that
  // would hold the thread serving other zones for as long as the zone asks
  // and charge the pages to the supervisor's cgroup instead of the zone's.
  // Where neither works the caller gets EOPNOTSUPP, as from a device that
  // cannot zero, and writes the zeroes itself (mkfs and blkdiscard do).
  if (mode != FALLOC_FL_ZERO_RANGE) return Reply::error_of(EOPNOTSUPP);
  if (fallocate(d.backing.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(start), static_cast<off_t>(len)) == 0)
    return Reply::value_of(0);
  return Reply::error_of(errno == EOPNOTSUPP ? EOPNOTSUPP : EIO);
}

}  // namespace

Reply loop_block_ioctl(Call& call, const LoopDevice& d, uint32_t cmd, uint64_t arg) {
  uint64_t size = size_of(d);
  bool compat = call.is_32bit();
  switch (cmd) {
    case BLKGETSIZE64:
    case kBlkGetSize64_32:
      return put<uint64_t>(call, arg, size);
    case BLKGETSIZE: {
      uint64_t sectors = size / kSector;
      if (compat) return sectors > UINT32_MAX ? Reply::error_of(EFBIG) : put<uint32_t>(call, arg, static_cast<uint32_t>(sectors));
      return put<uint64_t>(call, arg, sectors);
    }
    case BLKSSZGET:
    case BLKPBSZGET:
    case BLKIOMIN:
      return put<uint32_t>(call, arg, kSector);
    case BLKBSZGET:
    case kBlkBszGet32:
      // The soft block size the kernel starts a loop device with: the
      // largest power of two up to a page that divides its size.
      return put<int32_t>(call, arg, size % 4096 == 0 ? 4096 : size % 2048 == 0 ? 2048 : size % 1024 == 0 ? 1024 : 512);
    case BLKIOOPT:
    case BLKDISCARDZEROES:
      return put<uint32_t>(call, arg, 0);
    case BLKALIGNOFF:
      return put<int32_t>(call, arg, 0);
    case BLKROGET:
      return put<int32_t>(call, arg, d.read_only ? 1 : 0);
    case BLKFLSBUF:
      // The kernel writes the device's dirty buffers into the backing file's
      // page cache; here the node's data is the backing file's already, so
      // there is nothing to move. No fdatasync: it would hold the thread that
      // serves other zones for as long as the zone's disk takes.
      return Reply::value_of(0);
    case BLKRRPART:
      // Nothing to scan: partitions of a zone's image never become devices.
      return Reply::error_of(EINVAL);
    case BLKDISCARD:
      return discard(call, d, arg, FALLOC_FL_PUNCH_HOLE);
    case BLKZEROOUT:
      return discard(call, d, arg, FALLOC_FL_ZERO_RANGE);
    default:
      return Reply::cont();  // not provided: the node's own answer (ENOTTY)
  }
}

}  // namespace lxz
