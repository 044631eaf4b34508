#include "uts_fuse_protocol.h"

#include <fcntl.h>
#include <linux/fuse.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>

#include "../common/fd.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // Linux 6.9: a pidfd of a thread, not only of a thread-group leader
#endif

namespace lxz {
namespace {

constexpr size_t kNameMax = 64;  // __NEW_UTS_LEN: what the kernel keeps of a written name

int pidfd_open(pid_t pid, unsigned flags) { return static_cast<int>(syscall(SYS_pidfd_open, pid, flags)); }

void reply(int fd, uint64_t unique, int error, const void* payload = nullptr, size_t size = 0) {
  struct fuse_out_header out = {};
  out.len = static_cast<uint32_t>(sizeof out + (error ? 0 : size));
  out.error = -error;
  out.unique = unique;
  struct iovec iov[2] = {{&out, sizeof out}, {const_cast<void*>(payload), error ? 0 : size}};
  // ENOENT: the request was interrupted meanwhile; nobody waits for it.
  while (writev(fd, iov, 2) < 0 && errno == EINTR) {
  }
}

struct fuse_attr file_attr(uint32_t owner) {
  struct fuse_attr a = {};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  a.ino = FUSE_ROOT_ID;
  a.mode = S_IFREG | 0644;
  a.nlink = 1;
  a.uid = a.gid = owner;
  a.blksize = 4096;
  a.atime = a.mtime = a.ctime = static_cast<uint64_t>(now.tv_sec);
  return a;
}

// Joins the UTS namespace of the thread that made the request: `tid` is in
// our pid namespace (the host's or the keeper's, where the superblock was
// made), and the caller waits for our answer, so the id is still its own.
// A thread that is not a group leader on a kernel without PIDFD_THREAD (6.1)
// gets the zone's names (`zone`: its UTS namespace). Our capabilities reach only namespaces the zone's
// user namespace owns: any other is EACCES, as the sysctl natively is.
int join_caller_uts(pid_t tid, int zone) {
  Fd caller(pidfd_open(tid, PIDFD_THREAD));
  if (!caller.valid() && errno == EINVAL) caller.reset(pidfd_open(tid, 0));
  if (!caller.valid() && errno != EINVAL) return EIO;  // gone
  int target = caller.valid() ? caller.get() : zone;
  if (setns(target, CLONE_NEWUTS) < 0) return errno == ESRCH ? EIO : EACCES;
  return 0;
}

std::string current_name(bool domain) {
  struct utsname u;
  if (uname(&u) < 0) return {};
  return domain ? u.domainname : u.nodename;
}

// proc_do_uts_string: "name\n" from the offset.
void serve_read(int fd, const fuse_in_header& h, const fuse_read_in& in, bool domain, int zone) {
  if (int err = join_caller_uts(static_cast<pid_t>(h.pid), zone)) return reply(fd, h.unique, err);
  std::string text = current_name(domain) + "\n";
  size_t from = in.offset < text.size() ? static_cast<size_t>(in.offset) : text.size();
  size_t n = std::min<size_t>(text.size() - from, in.size);
  reply(fd, h.unique, 0, text.data() + from, n);
}

// proc_dostring's strict write: the name up to `offset` is kept and the
// bytes written are appended up to a NUL or newline, at most 64 in all (the
// rest is dropped, as the kernel does); a write past the end of the name
// changes nothing. The whole count is reported written.
void serve_write(int fd, const fuse_in_header& h, const fuse_write_in& in, const char* data, bool domain, int zone) {
  if (int err = join_caller_uts(static_cast<pid_t>(h.pid), zone)) return reply(fd, h.unique, err);
  std::string name = current_name(domain);
  if (in.offset <= name.size()) {
    name.resize(static_cast<size_t>(in.offset));
    for (uint32_t i = 0; i < in.size && name.size() < kNameMax; i++) {
      if (data[i] == '\0' || data[i] == '\n') break;
      name.push_back(data[i]);
    }
    int r = domain ? setdomainname(name.data(), name.size()) : sethostname(name.data(), name.size());
    if (r < 0) return reply(fd, h.unique, errno == EPERM ? EACCES : errno);
  }
  struct fuse_write_out out = {};
  out.size = in.size;
  reply(fd, h.unique, 0, &out, sizeof out);
}

// The kernel's first request, made when the file system was (no zone's).
bool reply_init(int fd, const fuse_in_header& h, const char* arg, size_t arg_size) {
  fuse_init_in in = {};
  std::memcpy(&in, arg, std::min(arg_size, sizeof in));
  if (in.major != FUSE_KERNEL_VERSION) {
    reply(fd, h.unique, EPROTO);
    return false;
  }
  fuse_init_out out = {};
  out.major = FUSE_KERNEL_VERSION;
  out.minor = std::min<uint32_t>(in.minor, FUSE_KERNEL_MINOR_VERSION);
  out.max_readahead = in.max_readahead;
  out.max_background = 1;
  out.congestion_threshold = 1;
  out.max_write = kUtsMaxWrite;
  out.time_gran = 1;
  reply(fd, h.unique, 0, &out, sizeof out);
  return true;
}

}  // namespace

// Answered by the keeper right after the file system is made, so that it
// needs no server until the zone itself asks something of the file.
Status answer_fuse_init(int fd) {
  alignas(8) static char buf[FUSE_MIN_READ_BUFFER];  // /dev/fuse refuses a smaller read (EINVAL)
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) < 0 && errno == EINTR) {
  }
  if (n < 0) return sys_error("read the fuse file system's INIT");
  fuse_in_header h;
  if (static_cast<size_t>(n) < sizeof h) return Error{EPROTO, "short fuse INIT"};
  std::memcpy(&h, buf, sizeof h);
  if (h.opcode != FUSE_INIT) return Error{EPROTO, "the fuse file system's first request is not INIT"};
  if (!reply_init(fd, h, buf + sizeof h, static_cast<size_t>(n) - sizeof h)) return Error{EPROTO, "fuse protocol version"};
  return {};
}

bool serve_fuse_request(int fd, const UtsFile& file, int zone) {
  const bool domain = file.domain;
  alignas(8) static char buf[kUtsMaxWrite + 8192];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0) return errno == EINTR || errno == EAGAIN || errno == ENOENT;  // ENOENT: interrupted before we read it
  if (static_cast<size_t>(n) < sizeof(fuse_in_header)) return false;
  fuse_in_header h;
  std::memcpy(&h, buf, sizeof h);
  const char* arg = buf + sizeof h;
  size_t arg_size = static_cast<size_t>(n) - sizeof h;
  switch (h.opcode) {
    case FUSE_INIT:
      return reply_init(fd, h, arg, arg_size);
    case FUSE_GETATTR:
    case FUSE_SETATTR: {
      if (h.opcode == FUSE_SETATTR) {
        fuse_setattr_in in = {};
        std::memcpy(&in, arg, std::min(arg_size, sizeof in));
        // proc_sys_setattr: no chmod or chown; a truncation (O_TRUNC) is a no-op.
        if (in.valid & (FATTR_MODE | FATTR_UID | FATTR_GID)) {
          reply(fd, h.unique, EPERM);
          return true;
        }
      }
      fuse_attr_out out = {};  // attr_valid 0: never cached
      out.attr = file_attr(file.owner);
      // The size of "name\n" as the caller would read it: reads through the
      // page cache (sendfile, splice: busybox's cat) stop at the size.
      if (join_caller_uts(static_cast<pid_t>(h.pid), zone) == 0) out.attr.size = current_name(domain).size() + 1;
      reply(fd, h.unique, 0, &out, sizeof out);
      return true;
    }
    case FUSE_OPEN: {
      fuse_open_out out = {};
      out.open_flags = FOPEN_DIRECT_IO;  // every read and write comes here, from its caller
      reply(fd, h.unique, 0, &out, sizeof out);
      return true;
    }
    case FUSE_READ: {
      if (arg_size < sizeof(fuse_read_in)) break;
      fuse_read_in in;
      std::memcpy(&in, arg, sizeof in);
      serve_read(fd, h, in, domain, zone);
      return true;
    }
    case FUSE_WRITE: {
      if (arg_size < sizeof(fuse_write_in)) break;
      fuse_write_in in;
      std::memcpy(&in, arg, sizeof in);
      if (arg_size - sizeof in < in.size) break;
      serve_write(fd, h, in, arg + sizeof in, domain, zone);
      return true;
    }
    case FUSE_FLUSH:
    case FUSE_RELEASE:
    case FUSE_FSYNC:
    case FUSE_DESTROY:
      reply(fd, h.unique, 0);
      return true;
    case FUSE_STATFS: {
      fuse_statfs_out out = {};
      out.st.bsize = out.st.frsize = 4096;
      out.st.namelen = 255;
      reply(fd, h.unique, 0, &out, sizeof out);
      return true;
    }
    case FUSE_FORGET:
    case FUSE_BATCH_FORGET:
    case FUSE_INTERRUPT:
      return true;  // no answer expected
    case FUSE_LOOKUP:
      reply(fd, h.unique, ENOENT);  // the root is a file: there is nothing to look up
      return true;
    default:
      reply(fd, h.unique, ENOSYS);  // xattrs, locks, poll, ...: the kernel remembers and stops asking
      return true;
  }
  reply(fd, h.unique, EINVAL);  // a request shorter than its opcode's arguments
  return true;
}

}  // namespace lxz
