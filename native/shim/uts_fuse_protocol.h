// The FUSE protocol of lxzone's /proc/sys/kernel/hostname and domainname
// (uts_sysctl_server.h): a file system whose root is one regular file, 0644
// and the zone's root's, whose contents are the UTS name of the thread that
// asks, read and written as proc_sys reads and writes the kernel's file.
// Only what such a file needs is answered; the rest is ENOSYS (the kernel
// remembers and stops asking).
#pragma once
#include <sys/types.h>

#include <cstdint>

#include "../common/result.h"

namespace lxz {

// What one file system serves.
struct UtsFile {
  bool domain;     // the domain name (setdomainname), else the host name
  uint32_t owner;  // the file's uid and gid as the superblock's user namespace sees the zone's root
};

// The largest write the kernel sends in one request (FUSE INIT's max_write).
constexpr uint32_t kUtsMaxWrite = 4096;

// The file system's first request, INIT, queued by the kernel when the file
// system was made (fuse_fill_super), with nothing of the zone's in it: read
// and answered on `fuse_fd` (non-blocking; it is already there).
Status answer_fuse_init(int fuse_fd);

// Reads and answers one request. A read or write joins the UTS namespace of
// the calling thread first (`zone_uts`: the zone's, for a thread no pidfd
// reaches); our capabilities reach only namespaces the zone's user namespace
// owns, any other is EACCES, as the sysctl natively is. False once the
// connection is gone.
bool serve_fuse_request(int fuse_fd, const UtsFile& file, int zone_uts);

}  // namespace lxz
