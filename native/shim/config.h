// The zone description the shim receives on its config fd: NUL-terminated
// "key=value" records, lists by repetition. Written by src/zone/shim-config.ts.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>
#include "../common/result.h"

namespace lxz {

enum class NetworkMode { kNone, kLoopback, kZone };

struct BindMount {
  std::string source;  // host path (already resolved by the caller)
  std::string target;  // absolute path in the zone
  bool readonly = true;
  // The source holds files owned by zone ids as such (a volume's canonical
  // owners, as the image store keeps layers): mounted id-mapped onto the
  // zone's range (MOUNT_ATTR_IDMAP), so every zone sees them as its own.
  bool idmap = false;
};

struct TmpfsMount {
  std::string target;  // absolute path in the zone
  std::string size;    // tmpfs size= option
  uint32_t mode = 01777;
  bool noexec = false;  // MOUNT_ATTR_NOEXEC (docker --tmpfs PATH:noexec)
};

// What a keeper needs to answer its zone's notified syscalls while no
// supervisor is attached (keeper_server.h): the supervisor's attach options.
struct ServeConfig {
  std::vector<uint8_t> dispatch;   // the dispatch table bytes, as the supervisor gets them
  std::string kernel_version;
  bool kernel_version_env = false;
  uint64_t memory_limit = 0;
  std::string memory_usage_file;
  std::string reboot_marker;
  std::vector<uint8_t> driver_filter;  // the FUSE drivers' seccomp filter, as the supervisor gets it
};

// The zone's stdio (stdio_relay.h): pipes the keeper relays, and log files
// the keeper writes them to instead of its own fds 1 and 2.
struct StdioConfig {
  bool relay = false;
  std::string log_stdout, log_stderr;
  uint64_t log_file_max = 0;  // bytes per file (the file and its .1 copy)
};

// OCI process.capabilities (lxzone-runc): bit masks by capability number.
// The shim grants each set only within the zone's own (capabilities.cc):
// asking for more never gives more.
struct CapSets {
  uint64_t bounding = 0, effective = 0, permitted = 0, inheritable = 0, ambient = 0;
};

// A resource limit of the zone's processes (OCI process.rlimits), set by the
// zone's process as host root, before its user namespace, so a hard limit may
// be raised as the config says.
struct Rlimit {
  int resource = 0;
  uint64_t soft = 0, hard = 0;  // UINT64_MAX = unlimited
};

struct ShimConfig {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string rootfs;            // "" = the host's root, read-only
  bool rootfs_writable = false;  // only for directory roots owned by the zone's ids
  // An OCI bundle's rootfs (rootfs_idmap.h): bound id-mapped onto the zone's
  // ids, so host root's files are the zone root's (where the fs allows it).
  bool rootfs_idmap = false;
  // Copy-on-write host root (cow_root.cc): an overlay over the host's root,
  // its upper layer in root_cow_dir (a host directory on another filesystem,
  // holding upper/ and work/) or, when empty, on a tmpfs of root_cow_size
  // that ends with the zone.
  bool root_cow = false;
  std::string root_cow_dir;
  std::string root_cow_size = "1g";
  // An image's layers from the image store (host directories, lowest first):
  // with them the overlay's lower layers are these, each id-mapped onto the
  // zone's ids, instead of the host's root.
  std::vector<std::string> root_cow_layers;
  std::vector<std::string> masks;  // zone paths hidden (files: /dev/null; dirs: an empty tmpfs)
  std::vector<std::string> readonly_paths;  // zone paths made read-only where they are (OCI readonlyPaths)
  std::string hostname = "lxzone";
  std::string cwd = "/";
  uint32_t id_base = 100000;     // zone uid/gid 0 maps to host id_base
  uint32_t id_count = 65536;
  uint32_t uid = 0;              // ids the binary runs as, inside the zone
  uint32_t gid = 0;
  bool init = true;              // a reaper as pid 1, the binary as pid 2
  bool hold = false;             // wait for kContinue after kCreated
  bool die_with_parent = true;   // one-shot runs: the keeper dies with its caller
  // lxzone-runc exec --detach: the keeper exits only after its launcher has,
  // so its exit status goes to the reaper it is handed to (keeper.cc).
  bool exit_after_parent = false;
  bool tty = false;               // a pseudo-terminal in the zone, relayed by the keeper
  // A system zone: the image's own init (systemd) is pid 1 and gets what it
  // needs of a container manager (docs/parts/system-zones.md): cgroup2 on
  // /sys/fs/cgroup (the zone's delegated cgroup, through its cgroup
  // namespace), /run/systemd/container, CAP_SYS_ADMIN in its user namespace.
  bool system = false;
  // lxzone-runc's create/start split (start_gate.h): a host fifo the zone's
  // process opens for writing, blocking, just before it execs the binary.
  std::string start_fifo;
  // OCI linux.sysctl: "a.b.c" = value, written to /proc/sys/a/b/c in the
  // zone's network, IPC and UTS namespaces (lxzone-runc allows only the
  // sysctls of those namespaces; src/oci/sysctl.ts).
  std::vector<std::pair<std::string, std::string>> sysctls;
  // OCI process.user.additionalGids: the process's supplementary groups
  // (zone ids, set after its gid; without a record it has none).
  std::vector<uint32_t> groups;
  int umask = -1;  // OCI process.user.umask (-1: the launcher's, inherited)
  // lxzone-runc --preserve-fds: fds of the shim (its caller's, passed on by
  // the launcher) that become the binary's fds 3, 4, ... in this order. The
  // caller chose to hand them into the zone; nothing else of the host is.
  std::vector<int> preserve_fds;
  // lxzone-runc: the keeper (the pid the runtime reports, which OCI hooks get)
  // lives in the zone's network namespace, so a hook that sets up the
  // container's network through /proc/PID/ns/net (dockerd's
  // libnetwork-setkey, CNI) acts on the zone's, never on the host's.
  bool keeper_in_zone_netns = false;
  // OCI linux.namespaces[].path: existing network, IPC and UTS namespaces the
  // zone joins instead of making its own (a pod's containers join its
  // sandbox's). The keeper checks whose they are (zone_namespaces.cc).
  std::string join_ns_net, join_ns_ipc, join_ns_uts;
  // With them: the running zone (its init's host pid) whose user namespace
  // this zone enters instead of a new one, with the same id range (a pod
  // shares one; the keeper checks that zone's id maps are this config's).
  pid_t join_userns_pid = 0;
  std::vector<Rlimit> rlimits;
  bool has_caps = false;  // a "caps" record: the process's sets, else the zone's whole set
  CapSets caps;
  pid_t join_pid = 0;            // exec: a process of the running zone to join (its init)
  bool rootless = false;         // set by the shim when not run as root
  std::vector<std::string> cgroup_procs;  // files the keeper writes the zone's first pid into
  std::string reattach_socket;   // where a restarted supervisor can re-attach ("" = never)
  uint32_t reattach_timeout = 30;  // seconds without a supervisor before the zone is stopped
  NetworkMode network = NetworkMode::kLoopback;
  std::string tmp_size = "64m";
  std::vector<BindMount> binds;
  std::vector<BindMount> proc_binds;  // files served over /proc (the zone's own view)
  std::vector<TmpfsMount> tmpfs;
  // Zone paths masked with an empty read-only tmpfs: lxzone's own state
  // directories wherever they would show (src/zone/hidden-paths.ts).
  std::vector<std::string> hide;
  // lxzone-utsfs's seccomp filter (struct sock_filter[], the uts-server
  // profile; uts_sysctl_server.cc installs it before the server's first
  // request). Empty: no server is started (the files stay the kernel's).
  std::vector<uint8_t> uts_server_filter;
  ServeConfig serve;
  StdioConfig stdio;
};

// Parses the records; the Error names the record that was wrong.
Status parse_config(const std::string& bytes, ShimConfig* out);

// Reads an fd to EOF, refusing more than `limit` bytes.
Status read_all(int fd, size_t limit, std::string* out, const char* what);

}  // namespace lxz
