// The loop-device ioctls (linux/loop.h) on the zone's own /dev/loop-control
// and /dev/loop0..7 (loop_devices.h). The filter routes every LOOP_* command
// here whatever the fd; a call on any other fd goes on to the host kernel
// unchanged (CONTINUE), as it did before.
//
// The fds are taken from the caller with pidfd_getfd (the open file itself,
// never a path the caller could swap), and a node is recognised by its mount
// id: each node is its own bind mount in the zone's read-only /dev, which no
// zone process can make or replace. LOOP_SET_FD binds the backing file over
// /dev/loopN inside the zone, with the zone's privileges (zone_mounts.h):
// only a regular file on one of the caller's own mounts can be bound.
// Offsets and size limits cannot be expressed by a bind and are refused
// (EINVAL); mounting /dev/loopN is mount(2)'s business.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "../tracee_memory.h"
#include "../zone_mounts.h"
#include "handler.h"
#include "loop_block.h"
#include "zone_caps.h"

namespace lxz {
namespace {

constexpr int kControl = -1;
constexpr int kNotOurs = -2;

// struct loop_info as an i386 process passes it (compat_loop_info).
struct CompatLoopInfo {
  int32_t lo_number;
  uint16_t lo_device;
  uint32_t lo_inode;
  uint16_t lo_rdevice;
  int32_t lo_offset;
  int32_t lo_encrypt_type;
  int32_t lo_encrypt_key_size;
  int32_t lo_flags;
  char lo_name[LO_NAME_SIZE];
  unsigned char lo_encrypt_key[LO_KEY_SIZE];
  uint32_t lo_init[2];
  char reserved[4];
};
static_assert(sizeof(CompatLoopInfo) == 140, "struct compat_loop_info");

int open_in(int dir, const char* path, int flags, uint64_t resolve, Fd* out) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags) | O_CLOEXEC;
  how.resolve = resolve;
  out->reset(static_cast<int>(syscall(SYS_openat2, dir, path, &how, sizeof how)));
  return out->valid() ? 0 : errno;
}

bool mount_id_of(int fd, uint64_t* out, struct statx* stx = nullptr) {
  struct statx local;
  struct statx* s = stx ? stx : &local;
  if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID | STATX_INO | STATX_TYPE, s) < 0 || !(s->stx_mask & STATX_MNT_ID)) return false;
  *out = s->stx_mnt_id;
  return true;
}

// The caller's /dev, if it is lxzone's: a read-only tmpfs, which a zone
// cannot mount itself.
int open_zone_dev(Call& call, Fd* out) {
  Fd root;
  if (int err = open_tracee_proc(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), "root", O_PATH | O_DIRECTORY, &root)) return err;
  if (int err = open_in(root.get(), "dev", O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, out)) return err;
  struct statfs sfs;
  if (fstatfs(out->get(), &sfs) < 0 || sfs.f_type != TMPFS_MAGIC || !(sfs.f_flags & ST_RDONLY)) return ENODEV;
  return 0;
}

int open_node(int dev_dir, const std::string& name, Fd* out) {
  return open_in(dev_dir, name.c_str(), O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, out);
}

std::string node_name(int n) { return "loop" + std::to_string(n); }

// Reads the nodes' mount ids once: a node not (or no longer) a character
// device is left out (after a supervisor restart a node may be covered).
bool learn_nodes(Call& call) {
  LoopState& st = call.zone.loops;
  if (st.known) return true;
  Fd dev;
  if (open_zone_dev(call, &dev)) return false;
  struct statx stx;
  Fd node;
  if (open_node(dev.get(), "loop-control", &node) || !mount_id_of(node.get(), &st.control_mnt_id, &stx) || !S_ISCHR(stx.stx_mode)) return false;
  for (int n = 0; n < kLoopCount; n++) {
    st.node_mnt_id[n] = 0;
    if (open_node(dev.get(), node_name(n), &node) == 0 && mount_id_of(node.get(), &st.node_mnt_id[n], &stx) && !S_ISCHR(stx.stx_mode))
      st.node_mnt_id[n] = 0;
  }
  st.known = true;
  return true;
}

int which_node(const LoopState& st, uint64_t mnt_id) {
  if (mnt_id == st.control_mnt_id) return kControl;
  for (int n = 0; n < kLoopCount; n++) {
    if (st.node_mnt_id[n] && mnt_id == st.node_mnt_id[n]) return n;
    if (st.dev[n].attached && mnt_id == st.dev[n].bind_mnt_id) return n;
  }
  return kNotOurs;
}

// huge_encode_dev(): how struct loop_info64 reports a dev_t.
uint64_t encode_dev(dev_t d) {
  uint64_t ma = major(d), mi = minor(d);
  return (mi & 0xff) | (ma << 8) | ((mi & ~0xffull) << 12);
}

Reply control_ioctl(Call& call, uint32_t cmd, uint64_t arg) {
  LoopState& st = call.zone.loops;
  switch (cmd) {
    case LOOP_CTL_GET_FREE:
      for (int n = 0; n < kLoopCount; n++)
        if (st.node_mnt_id[n] && !st.dev[n].attached) return Reply::value_of(n);
      return Reply::error_of(ENOSPC);  // the zone's eight are in use; none are added
    case LOOP_CTL_ADD:
      return Reply::error_of(arg < kLoopCount ? EEXIST : ENOSPC);
    case LOOP_CTL_REMOVE:
      if (arg >= kLoopCount) return Reply::error_of(ENODEV);
      return st.dev[arg].attached ? Reply::error_of(EBUSY) : Reply::value_of(0);  // the node stays
    default:
      return Reply::error_of(ENOSYS);  // as loop_control_ioctl answers
  }
}

// LOOP_SET_FD and the first half of LOOP_CONFIGURE.
int attach(Call& call, int n, int pidfd, int loop_fd, int backing_fd_nr, bool want_read_only) {
  LoopDevice& d = call.zone.loops.dev[n];
  if (d.attached) return EBUSY;
  Fd backing(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, backing_fd_nr, 0)));
  if (!backing.valid()) return EBADF;
  int bflags = fcntl(backing.get(), F_GETFL);
  int lflags = fcntl(loop_fd, F_GETFL);
  if (bflags < 0 || lflags < 0 || (bflags & O_PATH)) return EBADF;
  struct stat st;
  if (fstat(backing.get(), &st) < 0 || !S_ISREG(st.st_mode)) return EINVAL;
  bool read_only = want_read_only || (bflags & O_ACCMODE) != O_RDWR || (lflags & O_ACCMODE) == O_RDONLY;
  Fd dev, target;
  if (open_zone_dev(call, &dev) || open_node(dev.get(), node_name(n), &target)) return ENXIO;
  uint64_t mnt = 0;
  if (!mount_id_of(target.get(), &mnt) || mnt != call.zone.loops.node_mnt_id[n]) return EBUSY;
  CallerNamespaces ns;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  if (int err = open_tracee_proc(call.listener, call.req.id, pid, "ns/user", O_RDONLY, &ns.user)) return err;
  if (int err = open_tracee_proc(call.listener, call.req.id, pid, "ns/mnt", O_RDONLY, &ns.mnt)) return err;
  if (int err = bind_file_in_zone(ns, backing.get(), target.get(), read_only)) return err;
  // The bind as the zone now sees it: what later fds of /dev/loopN are on.
  struct statx stx;
  if (open_node(dev.get(), node_name(n), &target) || !mount_id_of(target.get(), &mnt, &stx) ||
      stx.stx_ino != st.st_ino || makedev(stx.stx_dev_major, stx.stx_dev_minor) != st.st_dev) {
    unmount_in_zone(ns, dev.get(), node_name(n).c_str());
    return EIO;
  }
  d.attached = true;
  d.backing = std::move(backing);
  d.read_only = read_only;
  d.bind_mnt_id = mnt;
  d.backing_dev = st.st_dev;
  d.backing_ino = st.st_ino;
  d.flags = read_only ? LO_FLAGS_READ_ONLY : 0;
  std::memset(d.file_name, 0, sizeof d.file_name);
  return 0;
}

int detach(Call& call, int n) {
  LoopDevice& d = call.zone.loops.dev[n];
  if (!d.attached) return ENXIO;
  Fd dev, node;
  CallerNamespaces ns;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  if (int err = open_zone_dev(call, &dev)) return err;
  uint64_t mnt = 0;
  if (open_node(dev.get(), node_name(n), &node) == 0 && mount_id_of(node.get(), &mnt) && mnt == d.bind_mnt_id) {
    if (int err = open_tracee_proc(call.listener, call.req.id, pid, "ns/user", O_RDONLY, &ns.user)) return err;
    if (int err = open_tracee_proc(call.listener, call.req.id, pid, "ns/mnt", O_RDONLY, &ns.mnt)) return err;
    if (int err = unmount_in_zone(ns, dev.get(), node_name(n).c_str())) return err;
  }
  d = LoopDevice();
  return 0;
}

// The settable part of loop_info64 / loop_info: no offset, no size limit.
int set_status(LoopDevice& d, uint64_t offset, uint64_t sizelimit, uint32_t flags, const char* name, size_t name_len) {
  if (!d.attached) return ENXIO;
  if (offset || sizelimit) return EINVAL;
  constexpr uint32_t settable = LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN | LO_FLAGS_DIRECT_IO;
  d.flags = (d.flags & ~settable) | (flags & settable);
  std::memset(d.file_name, 0, sizeof d.file_name);
  std::memcpy(d.file_name, name, std::min(name_len, sizeof d.file_name - 1));
  return 0;
}

void fill_info64(const LoopDevice& d, int n, struct loop_info64* info) {
  std::memset(info, 0, sizeof *info);
  info->lo_device = encode_dev(d.backing_dev);
  info->lo_inode = d.backing_ino;
  info->lo_rdevice = encode_dev(makedev(7, n));
  info->lo_number = static_cast<uint32_t>(n);
  info->lo_flags = d.flags;
  std::memcpy(info->lo_file_name, d.file_name, sizeof d.file_name);
}

Reply device_ioctl(Call& call, int n, int pidfd, int loop_fd, uint32_t cmd, uint64_t arg) {
  LoopDevice& d = call.zone.loops.dev[n];
  pid_t pid = static_cast<pid_t>(call.req.pid);
  auto done = [](int err) { return err ? Reply::error_of(err) : Reply::value_of(0); };
  auto io = [](int err) { return Reply::error_of(err == ENOENT ? ENOENT : EFAULT); };
  switch (cmd) {
    case LOOP_SET_FD:
      return done(attach(call, n, pidfd, loop_fd, static_cast<int>(arg), false));
    case LOOP_CONFIGURE: {
      struct loop_config cfg;
      if (int err = read_tracee(call.listener, call.req.id, pid, arg, &cfg, sizeof cfg)) return io(err);
      if (cfg.info.lo_offset || cfg.info.lo_sizelimit) return Reply::error_of(EINVAL);
      if (int err = attach(call, n, pidfd, loop_fd, static_cast<int>(cfg.fd), cfg.info.lo_flags & LO_FLAGS_READ_ONLY)) return Reply::error_of(err);
      return done(set_status(d, 0, 0, cfg.info.lo_flags, reinterpret_cast<const char*>(cfg.info.lo_file_name), LO_NAME_SIZE));
    }
    case LOOP_CLR_FD:
      return done(detach(call, n));
    case LOOP_SET_STATUS64: {
      struct loop_info64 info;
      if (!d.attached) return Reply::error_of(ENXIO);
      if (int err = read_tracee(call.listener, call.req.id, pid, arg, &info, sizeof info)) return io(err);
      return done(set_status(d, info.lo_offset, info.lo_sizelimit, info.lo_flags, reinterpret_cast<const char*>(info.lo_file_name), LO_NAME_SIZE));
    }
    case LOOP_GET_STATUS64: {
      if (!d.attached) return Reply::error_of(ENXIO);
      struct loop_info64 info;
      fill_info64(d, n, &info);
      if (int err = write_tracee(call.listener, call.req.id, pid, arg, &info, sizeof info)) return io(err);
      return Reply::value_of(0);
    }
    case LOOP_SET_STATUS: {
      if (!d.attached) return Reply::error_of(ENXIO);
      if (call.is_32bit()) {
        CompatLoopInfo info;
        if (int err = read_tracee(call.listener, call.req.id, pid, arg & 0xffffffffull, &info, sizeof info)) return io(err);
        return done(set_status(d, static_cast<uint32_t>(info.lo_offset), 0, static_cast<uint32_t>(info.lo_flags), info.lo_name, LO_NAME_SIZE));
      }
      struct loop_info info;
      if (int err = read_tracee(call.listener, call.req.id, pid, arg, &info, sizeof info)) return io(err);
      return done(set_status(d, static_cast<uint32_t>(info.lo_offset), 0, static_cast<uint32_t>(info.lo_flags), info.lo_name, LO_NAME_SIZE));
    }
    case LOOP_GET_STATUS: {
      if (!d.attached) return Reply::error_of(ENXIO);
      struct loop_info64 i64;
      fill_info64(d, n, &i64);
      if (call.is_32bit()) {
        CompatLoopInfo info = {};
        info.lo_number = n;
        info.lo_device = static_cast<uint16_t>(i64.lo_device);
        info.lo_inode = static_cast<uint32_t>(i64.lo_inode);
        info.lo_rdevice = static_cast<uint16_t>(i64.lo_rdevice);
        info.lo_flags = static_cast<int32_t>(d.flags);
        std::memcpy(info.lo_name, d.file_name, LO_NAME_SIZE);
        if (int err = write_tracee(call.listener, call.req.id, pid, arg & 0xffffffffull, &info, sizeof info)) return io(err);
        return Reply::value_of(0);
      }
      struct loop_info info = {};
      info.lo_number = n;
      info.lo_device = i64.lo_device;
      info.lo_inode = i64.lo_inode;
      info.lo_rdevice = i64.lo_rdevice;
      info.lo_flags = static_cast<int>(d.flags);
      std::memcpy(info.lo_name, d.file_name, LO_NAME_SIZE);
      if (int err = write_tracee(call.listener, call.req.id, pid, arg, &info, sizeof info)) return io(err);
      return Reply::value_of(0);
    }
    case LOOP_SET_CAPACITY:
    case LOOP_SET_DIRECT_IO:
    case LOOP_SET_BLOCK_SIZE:
      return d.attached ? Reply::value_of(0) : Reply::error_of(ENXIO);
    case LOOP_CHANGE_FD:
      return Reply::error_of(EINVAL);  // only for read-only devices natively; not provided
    default:
      return Reply::error_of(ENOTTY);  // a loop-control command on a device
  }
}

}  // namespace

Reply handle_loop(Call& call) {
  const auto& a = call.req.data.args;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  uint32_t cmd = static_cast<uint32_t>(a[1]);
  uint64_t arg = call.is_32bit() ? (a[2] & 0xffffffffull) : a[2];
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid() || !notification_valid(call.listener, call.req.id)) return Reply::error_of(ESRCH);
  Fd loop_fd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), static_cast<int>(a[0]), 0)));
  if (!loop_fd.valid()) return Reply::cont();  // a bad fd: the kernel answers EBADF
  uint64_t mnt = 0;
  if (!mount_id_of(loop_fd.get(), &mnt) || !learn_nodes(call)) return Reply::cont();
  int n = which_node(call.zone.loops, mnt);
  if (n == kNotOurs) return Reply::cont();
  // Natively only root opens the nodes (0660 root:disk); ours are binds of
  // /dev/null that anyone opens, so what lets root open them natively is
  // asked for here: CAP_DAC_OVERRIDE in the zone (the zone's root has it).
  if (!caller_has_zone_capability(call, CAP_DAC_OVERRIDE)) return Reply::error_of(EPERM);
  if (n == kControl) return is_block_ioctl(cmd) ? Reply::cont() : control_ioctl(call, cmd, arg);
  if (is_block_ioctl(cmd)) return loop_block_ioctl(call, call.zone.loops.dev[n], cmd, arg);
  return device_ioctl(call, n, pidfd.get(), loop_fd.get(), cmd, arg);
}

}  // namespace lxz
