// lxzone-fusermount: the `fusermount` a FUSE driver of libfuse 2 finds in the
// private root lxzone builds for it (native/supervisor/fuse_mount.cc), bound
// over the host's fusermount3 there. Debian's exfat-fuse always asks libfuse
// for a fuseblk mount ("blkdev" is in its fixed options): a real block device
// of the host's kernel, which a zone never gets. mount(2) of fuseblk fails,
// libfuse then runs fusermount, and this one makes a plain fuse mount of the
// same connection instead (the driver reads its image file either way).
//
// It runs as the zone's root in the driver's own mount namespace, no_new_privs
// (no setuid here): what it may mount is what the kernel lets the zone's root
// mount there. Protocol (libfuse 2's mount.c): `fusermount -o OPTS -- MNT`,
// the /dev/fuse fd sent back with SCM_RIGHTS over the socket named by
// _FUSE_COMMFD; `fusermount -u ...` (unmount at the driver's exit) is a no-op:
// the mount is the zone's by then.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// Only the options that mean something to a plain fuse mount are kept
// (blkdev, blksize= and libfuse's own are dropped).
void take_options(const std::string& opts, unsigned long* flags, std::string* data, std::string* fsname, std::string* subtype) {
  size_t pos = 0;
  while (pos <= opts.size()) {
    size_t end = opts.find(',', pos);
    if (end == std::string::npos) end = opts.size();
    std::string o = opts.substr(pos, end - pos);
    if (o == "ro") *flags |= MS_RDONLY;
    else if (o == "allow_other" || o == "default_permissions") *data += "," + o;
    else if (o.rfind("fsname=", 0) == 0) *fsname = o.substr(7);
    else if (o.rfind("subtype=", 0) == 0) *subtype = o.substr(8);
    pos = end + 1;
  }
}

int send_fd(int sock, int fd) {
  char byte = 0;
  struct iovec iov = {&byte, 1};
  char ctl[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string opts, mnt;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-u") return 0;  // unmount at exit: the zone owns the mount now
    if (a == "-o" && i + 1 < argc) opts = argv[++i];
    else if (a == "--" && i + 1 < argc) mnt = argv[++i];
    else if (a[0] != '-') mnt = a;
  }
  const char* comm = getenv("_FUSE_COMMFD");
  if (mnt.empty() || !comm) {
    fprintf(stderr, "lxzone-fusermount: usage: -o OPTS -- MOUNTPOINT with _FUSE_COMMFD set\n");
    return 1;
  }
  int sock = atoi(comm);
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return perror("lxzone-fusermount: /dev/fuse"), 1;
  unsigned long flags = MS_NOSUID | MS_NODEV;
  std::string data = "fd=" + std::to_string(fd) + ",rootmode=40000,user_id=0,group_id=0";
  std::string fsname = "fuse", subtype;
  take_options(opts, &flags, &data, &fsname, &subtype);
  std::string type = subtype.empty() ? "fuse" : "fuse." + subtype;
  if (mount(fsname.c_str(), mnt.c_str(), type.c_str(), flags, data.c_str()) < 0) return perror("lxzone-fusermount: mount"), 1;
  if (send_fd(sock, fd) < 0) return perror("lxzone-fusermount: send"), 1;
  return 0;
}
