#include "uts_sysctl_server.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fuse.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "../common/fd.h"
#include "../supervisor/fuse_mount.h"  // valid_filter_size
#include "mount_api.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // Linux 6.9: a pidfd of a thread, not only of a thread-group leader
#endif

namespace lxz {
namespace {

constexpr size_t kNameMax = 64;  // __NEW_UTS_LEN: what the kernel keeps of a written name
constexpr uint32_t kMaxWrite = 4096;

// The two files: which name each serves, where it is mounted.
struct Served {
  const char* target;
  bool domain;
};
constexpr Served kFiles[2] = {{"/proc/sys/kernel/hostname", false}, {"/proc/sys/kernel/domainname", true}};

uint32_t zone_root_id_of(const ShimConfig& c) { return c.rootless ? 0 : c.id_base; }

// The files' owner as the superblock's user namespace (the keeper's) sees
// the zone's root: set by make_file_mount, read by the server (a fork).
uint32_t g_file_owner = 0;

int pidfd_open(pid_t pid, unsigned flags) { return static_cast<int>(syscall(SYS_pidfd_open, pid, flags)); }

// One FUSE file system whose root is a single regular file, made in the
// keeper's user namespace (the /dev/fuse file and the superblock must share
// it) before the server enters the zone's: detached, not yet anywhere.
Status make_file_mount(const ShimConfig& c, int fuse_fd, Fd* mount) {
  Fd fs(fsopen("fuse", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys_error("fsopen fuse");
  g_file_owner = zone_root_id_of(c);
  std::string id = std::to_string(g_file_owner);
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) return sys_error(std::string("fuse ") + key);
    return {};
  };
  LXZ_TRY(set("source", "lxzone"));
  LXZ_TRY(set("subtype", "lxzone"));
  LXZ_TRY(set("fd", std::to_string(fuse_fd)));
  LXZ_TRY(set("rootmode", "100644"));  // octal: the root is a regular file
  LXZ_TRY(set("user_id", id));
  LXZ_TRY(set("group_id", id));
  // Every process of the zone may open it (the kernel admits only processes
  // of the superblock's user namespace and below); the kernel checks the
  // file's mode (0644, the zone's root's) as for the real sysctl file.
  for (const char* flag : {"allow_other", "default_permissions"})
    if (fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag, nullptr, 0) < 0) return sys_error(std::string("fuse ") + flag);
  if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return sys_error("create the fuse file system");
  mount->reset(fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mount->valid()) return sys_error("fsmount fuse");
  return {};
}

// The detached mounts the keeper made, inherited by the zone process (a
// clone of the keeper): -1 when there are none.
int g_mounts[2] = {-1, -1};

// Over the kernel's file, in the tree the zone process builds. A read-only
// /proc/sys/kernel (an OCI bundle's readonlyPaths) stays read-only.
Status attach_over(int mount, const std::string& target) {
  Fd at(open(target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!at.valid()) return sys_error("open " + target);
  struct statvfs sv;
  if (fstatvfs(at.get(), &sv) < 0) return sys_error("statvfs " + target);
  if (sv.f_flag & ST_RDONLY) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, mount, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return sys_error("read-only fuse mount");
  }
  if (move_mount(mount, "", at.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("mount over " + target);
  return {};
}

// Keeps CAP_SYS_ADMIN (over the zone's user namespace: joining its UTS
// namespaces and setting their names) and nothing else, for good.
Status keep_only_sys_admin() {
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (cap != CAP_SYS_ADMIN && cap != CAP_SYS_PTRACE && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return sys_error("drop bounding capabilities");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_PTRACE}) {
    data[CAP_TO_INDEX(cap)].effective |= CAP_TO_MASK(cap);
    data[CAP_TO_INDEX(cap)].permitted |= CAP_TO_MASK(cap);
  }
  if (syscall(SYS_capset, &header, data) < 0) return sys_error("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("no_new_privs");
  return {};
}

// The server's own set-up, in the child: the zone's root in the zone's user
// namespace (no capability of the host's), in a mount namespace of its own
// whose root is an empty read-only tmpfs (it reads no file at all) and which
// holds nothing else: the copy of the host's mounts that unshare made is
// detached (pivot_root, then umount of the old root), not just left under a
// chroot. Kept, it pinned every filesystem mounted on the host at the
// zone's start for as long as the zone ran: another zone's disk among them,
// which then outlived that zone's halt, so its disk could not be grown
// offline at its next boot (src/zone/cgroups/disk.ts).
Status set_up(int user_ns) {
  if (setns(user_ns, CLONE_NEWUSER) < 0) return sys_error("join the zone's user namespace");
  if (setresgid(0, 0, 0) < 0) return sys_error("setresgid to the zone's root");
  if (setgroups(0, nullptr) < 0 && errno != EPERM) return sys_error("setgroups");
  if (setresuid(0, 0, 0) < 0) return sys_error("setresuid to the zone's root");
  if (unshare(CLONE_NEWNS) < 0) return sys_error("unshare a mount namespace");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return sys_error("make the mounts private");
  if (mount("none", "/tmp", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0500") < 0)
    return sys_error("empty root");
  if (chdir("/tmp") < 0) return sys_error("chdir into the empty root");
  // pivot_root hands the old root's lock (copied mounts of a less privileged
  // namespace are locked) to the new one, so the old root can be detached.
  if (syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root into the empty root");
  if (umount2(".", MNT_DETACH) < 0) return sys_error("detach the host's mounts");
  if (chdir("/") < 0) return sys_error("chdir /");
  return keep_only_sys_admin();
}

// The uts-server profile (syscall-tables/rules/uts-server.json, compiled in
// TypeScript and carried in the config), installed as the last step of the
// set-up, under the no_new_privs keep_only_sys_admin set, and before the
// first request is read: what the zone's writes reach from here on is the
// serving loop's few calls (read and answer /dev/fuse, poll, a pidfd of the
// caller, setns into its UTS namespace only, uname, sethostname,
// setdomainname, memory without PROT_EXEC, exit). No listener: nothing it
// does is notified (the profile has notify: false).
Status install_filter(const std::vector<uint8_t>& bytes) {
  if (!valid_filter_size(bytes.size())) return Error{EINVAL, "the uts-server filter is not a seccomp filter"};
  struct sock_fprog prog = {};
  prog.len = static_cast<unsigned short>(bytes.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(bytes.data()));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return sys_error("install the uts-server seccomp filter");
  return {};
}

// --- the FUSE protocol, for a file system of one regular file -------------

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

struct fuse_attr file_attr() {
  struct fuse_attr a = {};
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  a.ino = FUSE_ROOT_ID;
  a.mode = S_IFREG | 0644;
  a.nlink = 1;
  a.uid = a.gid = g_file_owner;
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
  out.max_write = kMaxWrite;
  out.time_gran = 1;
  reply(fd, h.unique, 0, &out, sizeof out);
  return true;
}

// Keeper side, right after the file system is made: its INIT is already
// queued (fuse_fill_super sends it), made by the kernel, with nothing of the
// zone's in it; answered here, the keeper needs no server until the zone
// itself asks something of the file.
Status answer_init(int fd) {
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

// One request; false once the connection is gone.
bool serve_one(int fd, bool domain, int zone) {
  alignas(8) static char buf[kMaxWrite + 8192];
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
      out.attr = file_attr();
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

void serve(Fd fuse[2], int zone_uts) {
  bool open[2] = {true, true};
  while (open[0] || open[1]) {
    struct pollfd p[2] = {{open[0] ? fuse[0].get() : -1, POLLIN, 0}, {open[1] ? fuse[1].get() : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (!open[i] || !p[i].revents) continue;
      if ((p[i].revents & (POLLERR | POLLHUP)) || !serve_one(fuse[i].get(), kFiles[i].domain, zone_uts)) open[i] = false;
    }
  }
}

// fds 3..: the two /dev/fuse files, the zone's user and UTS namespaces.
enum : int { kFuseFd0 = 3, kFuseFd1 = 4, kUserNsFd = 5, kUtsNsFd = 6, kFdCount = 4 };

[[noreturn]] void server_main(pid_t keeper, const int (&keep)[kFdCount], const std::vector<uint8_t>& filter) {
  // Nothing of the keeper's: its fds (the zone's stdio, the supervisor's
  // socket), its blocked signals. Its stderr only until the set-up is done,
  // to say why it failed.
  int high[kFdCount];
  for (int i = 0; i < kFdCount; i++)
    if ((high[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 100)) < 0) _exit(1);
  for (int i = 0; i < kFdCount; i++)
    if (dup3(high[i], kFuseFd0 + i, O_CLOEXEC) < 0) _exit(1);
  syscall(SYS_close_range, static_cast<unsigned>(kFuseFd0 + kFdCount), ~0U, 0U);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int std = 0; std < 2 && null >= 0; std++) dup3(null, std, 0);
  if (null > 2) close(null);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_NAME, "lxzone-utsfs", 0, 0, 0);

  Status s = set_up(kUserNsFd);
  // After the last credential change (which clears it): we die with the keeper.
  if (s.ok() && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != keeper)) s = Error{ESRCH, "the keeper is gone"};
  close(kUserNsFd);
  // The filter last, once nothing but serving is left to do.
  if (s.ok()) s = install_filter(filter);
  if (!s.ok()) {
    // Our ends of the connections close with us: the zone's callers get
    // ENOTCONN, never a wait.
    dprintf(2, "lxzone-shim: /proc/sys/kernel/hostname cannot be served in the zone: %s\n", s.error().message().c_str());
    _exit(1);
  }
  close(2);  // the keeper's stderr (dup3 of /dev/null is not among the filter's calls)
  Fd fuse[2] = {Fd(kFuseFd0), Fd(kFuseFd1)};
  serve(fuse, kUtsNsFd);
  _exit(0);
}

}  // namespace

Status UtsSysctlServer::prepare(const ShimConfig& c, const ZoneNamespaces& ns) {
  // Never a server without its filter (a config from a caller that sends none).
  if (c.uts_server_filter.empty()) return Error{EPERM, "no seccomp filter for lxzone-utsfs in the config (uts-server-filter)"};
  Fd fuse[2], mounts[2];
  for (int i = 0; i < 2; i++) {
    // Non-blocking: the keeper polls them, and a request may be withdrawn
    // (its caller interrupted) between a poll and a read.
    fuse[i].reset(open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!fuse[i].valid()) return sys_error("open /dev/fuse");
    LXZ_TRY(make_file_mount(c, fuse[i].get(), &mounts[i]));
    LXZ_TRY(answer_init(fuse[i].get()));
  }
  Fd user(fcntl(ns.user.get(), F_DUPFD_CLOEXEC, 0)), uts(fcntl(ns.uts.get(), F_DUPFD_CLOEXEC, 0));
  if (!user.valid() || !uts.valid()) return sys_error("keep the zone's user and UTS namespaces");
  for (int i = 0; i < 2; i++) {
    fuse_[i] = std::move(fuse[i]);
    g_mounts[i] = mounts[i].release();
  }
  user_ns_ = std::move(user);
  uts_ns_ = std::move(uts);
  filter_ = &c.uts_server_filter;  // the config lives as long as the keeper
  return {};
}

int UtsSysctlServer::awaited_fd(int i) const { return pid_ > 0 ? -1 : fuse_[i].get(); }

Status UtsSysctlServer::serve() {
  if (pid_ > 0 || !fuse_[0].valid() || filter_ == nullptr) return {};
  pid_t keeper = getpid();
  pid_t child = fork();
  if (child < 0) return sys_error("fork the UTS sysctl server");
  if (child == 0) {
    const int keep[kFdCount] = {fuse_[0].get(), fuse_[1].get(), user_ns_.get(), uts_ns_.get()};
    server_main(keeper, keep, *filter_);
  }
  pid_ = child;
  // The server holds the connections alone from here: if it fails, they
  // close with it.
  for (Fd& f : fuse_) f.reset();
  user_ns_.reset();
  uts_ns_.reset();
  return {};
}

void UtsSysctlServer::release_mounts() {
  for (int& m : g_mounts) {
    if (m >= 0) close(m);
    m = -1;
  }
}

Status attach_uts_sysctl_files(const std::string& root) {
  if (g_mounts[0] < 0) return {};
  Status s;
  for (int i = 0; i < 2; i++) {
    if (g_mounts[i] < 0) continue;
    if (s.ok()) s = attach_over(g_mounts[i], root + kFiles[i].target);
    close(g_mounts[i]);
    g_mounts[i] = -1;
  }
  return s;
}

void UtsSysctlServer::kill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

void UtsSysctlServer::stop() {
  for (Fd& f : fuse_) f.reset();
  user_ns_.reset();
  uts_ns_.reset();
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace lxz
