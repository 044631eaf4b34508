#include "config.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <unistd.h>

#include "../supervisor/fuse_mount.h"   // valid_filter_size
#include "../common/seam.generated.h"  // is_shim_config_key: the record keys (seam/facts.json)

namespace lxz {
namespace {

Error bad(size_t index, const std::string& key, const std::string& why) {
  return Error{0, "config record " + std::to_string(index) + " (" + key + "): " + why};
}

bool parse_u32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.size() > 10) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  unsigned long v = std::strtoul(s.c_str(), nullptr, 10);
  if (v > UINT32_MAX) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

bool parse_bool(const std::string& s, bool* out) {
  if (s == "1") *out = true;
  else if (s == "0") *out = false;
  else return false;
  return true;
}

// "SOURCE\x1fTARGET\x1fro|rw[+idmap]"
bool parse_bind(const std::string& s, BindMount* out) {
  size_t a = s.find('\x1f');
  if (a == std::string::npos) return false;
  size_t b = s.find('\x1f', a + 1);
  if (b == std::string::npos) return false;
  out->source = s.substr(0, a);
  out->target = s.substr(a + 1, b - a - 1);
  std::string mode = s.substr(b + 1);
  const std::string idmap = "+idmap";
  if (mode.size() > idmap.size() && mode.compare(mode.size() - idmap.size(), idmap.size(), idmap) == 0) {
    out->idmap = true;
    mode.resize(mode.size() - idmap.size());
  }
  if (mode != "ro" && mode != "rw") return false;
  out->readonly = mode == "ro";
  return !out->source.empty() && out->source[0] == '/' && !out->target.empty() && out->target[0] == '/';
}

bool safe_path(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  // No ".." component: the shim never resolves paths that could climb out.
  size_t pos = 0;
  while ((pos = p.find("..", pos)) != std::string::npos) {
    bool start = pos == 0 || p[pos - 1] == '/';
    bool end = pos + 2 == p.size() || p[pos + 2] == '/';
    if (start && end) return false;
    pos += 2;
  }
  return true;
}

bool parse_u64(const std::string& s, uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  *out = std::strtoull(s.c_str(), nullptr, 10);
  return true;
}

bool parse_hex(const std::string& s, std::vector<uint8_t>* out) {
  if (s.size() % 2 || s.empty()) return false;
  auto nibble = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

// The keeper's own records: serving the zone without a supervisor, and the
// zone's stdio. Returns false for a key that is not one of them; sets *why
// when the value is wrong.
bool parse_keeper_record(const std::string& key, const std::string& value, ShimConfig* out, std::string* why) {
  why->clear();
  ServeConfig& s = out->serve;
  StdioConfig& io = out->stdio;
  if (key == "serve-dispatch") {
    if (!parse_hex(value, &s.dispatch) || s.dispatch.size() > 65536) *why = "not the dispatch table in lowercase hex";
  } else if (key == "serve-kernel-version") {
    if (value.size() > 64) *why = "longer than 64 bytes";
    s.kernel_version = value;
  } else if (key == "serve-kernel-version-env") {
    if (!parse_bool(value, &s.kernel_version_env)) *why = "not 0 or 1";
  } else if (key == "serve-memory-limit") {
    if (!parse_u64(value, &s.memory_limit)) *why = "not a number";
  } else if (key == "serve-memory-usage-file") {
    if (!safe_path(value) || value.rfind("/sys/fs/cgroup/", 0) != 0) *why = "not a file under /sys/fs/cgroup";
    s.memory_usage_file = value;
  } else if (key == "serve-reboot-marker") {
    if (!safe_path(value)) *why = "not an absolute path without '..'";
    s.reboot_marker = value;
  } else if (key == "serve-driver-filter") {
    if (!parse_hex(value, &s.driver_filter) || !valid_filter_size(s.driver_filter.size())) *why = "not a seccomp filter (8-byte instructions, 1 to 4096) in lowercase hex";
  } else if (key == "relay-stdio") {
    if (!parse_bool(value, &io.relay)) *why = "not 0 or 1";
  } else if (key == "log-stdout" || key == "log-stderr") {
    if (!safe_path(value)) *why = "not an absolute path without '..'";
    (key == "log-stdout" ? io.log_stdout : io.log_stderr) = value;
  } else if (key == "log-file-max") {
    if (!parse_u64(value, &io.log_file_max) || io.log_file_max == 0) *why = "not a positive number";
  } else {
    return false;
  }
  return true;
}

}  // namespace

Status read_all(int fd, size_t limit, std::string* out, const char* what) {
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(std::string("read ") + what);
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > limit)
      return Error{E2BIG, std::string(what) + " larger than " + std::to_string(limit) + " bytes"};
    out->append(buf, static_cast<size_t>(n));
  }
  return {};
}

Status parse_config(const std::string& bytes, ShimConfig* out) {
  if (bytes.empty()) return Error{0, "config is empty"};
  if (bytes.back() != '\0') return Error{0, "config does not end with a NUL-terminated record"};
  bool saw_version = false;
  size_t index = 0;
  size_t start = 0;
  std::string why;
  while (start < bytes.size()) {
    size_t end = bytes.find('\0', start);
    std::string record = bytes.substr(start, end - start);
    start = end + 1;
    index++;
    size_t eq = record.find('=');
    if (eq == std::string::npos || eq == 0) return bad(index, record.substr(0, 32), "not key=value");
    std::string key = record.substr(0, eq);
    std::string value = record.substr(eq + 1);

    if (index == 1) {
      if (key != "version" || value != "1") return bad(index, key, "the first record must be version=1");
      saw_version = true;
      continue;
    }
    // The keys are seam/facts.json's shimConfig (what TypeScript may write).
    if (!is_shim_config_key(key)) return bad(index, key, "unknown key");
    if (key == "arg") out->argv.push_back(value);
    else if (key == "env") {
      if (value.find('=') == std::string::npos) return bad(index, key, "not NAME=VALUE");
      out->env.push_back(value);
    } else if (key == "rootfs") {
      if (!value.empty() && !safe_path(value)) return bad(index, key, "not an absolute path without '..'");
      out->rootfs = value;
    } else if (key == "rootfs-writable") {
      if (!parse_bool(value, &out->rootfs_writable)) return bad(index, key, "not 0 or 1");
    } else if (key == "rootfs-idmap") {
      if (!parse_bool(value, &out->rootfs_idmap)) return bad(index, key, "not 0 or 1");
    } else if (key == "root-cow") {
      if (!parse_bool(value, &out->root_cow)) return bad(index, key, "not 0 or 1");
    } else if (key == "root-cow-dir") {
      if (!safe_path(value)) return bad(index, key, "not an absolute path without '..'");
      out->root_cow_dir = value;
    } else if (key == "root-cow-layer") {
      if (!safe_path(value) || value == "/") return bad(index, key, "not an absolute path without '..'");
      if (out->root_cow_layers.size() >= 128) return bad(index, key, "more than 128 layers");
      out->root_cow_layers.push_back(value);
    } else if (key == "root-cow-size") {
      bool ok = !value.empty();
      for (char ch : value) ok &= (ch >= '0' && ch <= '9') || ch == 'k' || ch == 'm' || ch == 'g';
      if (!ok) return bad(index, key, "not a tmpfs size");
      out->root_cow_size = value;
    } else if (key == "mask") {
      if (!safe_path(value) || value == "/") return bad(index, key, "not an absolute path without '..'");
      out->masks.push_back(value);
    } else if (key == "readonly") {
      if (!safe_path(value) || value == "/") return bad(index, key, "not an absolute path without '..'");
      out->readonly_paths.push_back(value);
    } else if (key == "hostname") {
      if (value.empty() || value.size() > 64) return bad(index, key, "must be 1..64 bytes");
      out->hostname = value;
    } else if (key == "cwd") {
      if (!safe_path(value)) return bad(index, key, "not an absolute path without '..'");
      out->cwd = value;
    } else if (key == "id-base") {
      if (!parse_u32(value, &out->id_base)) return bad(index, key, "not a number");
    } else if (key == "id-count") {
      if (!parse_u32(value, &out->id_count) || out->id_count == 0) return bad(index, key, "not a positive number");
    } else if (key == "uid") {
      if (!parse_u32(value, &out->uid)) return bad(index, key, "not a number");
    } else if (key == "gid") {
      if (!parse_u32(value, &out->gid)) return bad(index, key, "not a number");
    } else if (key == "init") {
      if (!parse_bool(value, &out->init)) return bad(index, key, "not 0 or 1");
    } else if (key == "hold") {
      if (!parse_bool(value, &out->hold)) return bad(index, key, "not 0 or 1");
    } else if (key == "die-with-parent") {
      if (!parse_bool(value, &out->die_with_parent)) return bad(index, key, "not 0 or 1");
    } else if (key == "tty") {
      if (!parse_bool(value, &out->tty)) return bad(index, key, "not 0 or 1");
    } else if (key == "system") {
      if (!parse_bool(value, &out->system)) return bad(index, key, "not 0 or 1");
    } else if (key == "join-pid") {
      uint32_t pid;
      if (!parse_u32(value, &pid) || pid < 2 || pid > 4194304) return bad(index, key, "not a pid");
      out->join_pid = static_cast<pid_t>(pid);
    } else if (key == "rlimit") {
      // "RESOURCE<US>SOFT<US>HARD", numbers (RLIMIT_* of <sys/resource.h>)
      size_t a = value.find('\x1f'), b = a == std::string::npos ? a : value.find('\x1f', a + 1);
      // ("unlimited" for RLIM_INFINITY)
      Rlimit r;
      uint32_t res = 0;
      auto limit = [](const std::string& v, uint64_t* out) {
        if (v == "unlimited") {
          *out = UINT64_MAX;
          return true;
        }
        return parse_u64(v, out);
      };
      if (b == std::string::npos || !parse_u32(value.substr(0, a), &res) || res >= 16 ||
          !limit(value.substr(a + 1, b - a - 1), &r.soft) || !limit(value.substr(b + 1), &r.hard) || r.soft > r.hard)
        return bad(index, key, "not RESOURCE<US>SOFT<US>HARD with soft <= hard");
      r.resource = static_cast<int>(res);
      out->rlimits.push_back(r);
    } else if (key == "sysctl") {
      // "NAME<US>VALUE": a dotted name of letters, digits, '_' and '-' (never '/' or "..").
      size_t us = value.find('\x1f');
      bool ok = us != std::string::npos && us > 0 && value[0] != '.' && value[us - 1] != '.';
      for (size_t i = 0; ok && i < us; i++) {
        char ch = value[i];
        ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || (ch == '.' && value[i + 1] != '.');
      }
      if (!ok) return bad(index, key, "not NAME<US>VALUE with a dotted sysctl name");
      out->sysctls.emplace_back(value.substr(0, us), value.substr(us + 1));
    } else if (key == "group") {
      uint32_t g;
      if (!parse_u32(value, &g)) return bad(index, key, "not a number");
      if (out->groups.size() >= 64) return bad(index, key, "more than 64 groups");
      out->groups.push_back(g);
    } else if (key == "umask") {
      uint32_t m;
      if (!parse_u32(value, &m) || m > 0777) return bad(index, key, "not a mode (0 to 511)");
      out->umask = static_cast<int>(m);
    } else if (key == "caps") {
      // "BOUNDING<US>EFFECTIVE<US>PERMITTED<US>INHERITABLE<US>AMBIENT", decimal masks
      uint64_t* sets[] = {&out->caps.bounding, &out->caps.effective, &out->caps.permitted, &out->caps.inheritable, &out->caps.ambient};
      size_t at = 0;
      for (size_t i = 0; i < 5; i++) {
        size_t end = value.find('\x1f', at);
        if ((i < 4) != (end != std::string::npos) || !parse_u64(value.substr(at, end == std::string::npos ? std::string::npos : end - at), sets[i]))
          return bad(index, key, "not five masks separated by US");
        at = end + 1;
      }
      out->has_caps = true;
    } else if (key == "keeper-netns") {
      if (value != "1" && value != "0") return bad(index, key, "not 0 or 1");
      out->keeper_in_zone_netns = value == "1";
    } else if (key == "join-ns") {
      // "TYPE<US>PATH", TYPE net, ipc or uts
      size_t a = value.find('\x1f');
      std::string type = a == std::string::npos ? "" : value.substr(0, a), path = a == std::string::npos ? "" : value.substr(a + 1);
      std::string* slot = type == "net" ? &out->join_ns_net : type == "ipc" ? &out->join_ns_ipc : type == "uts" ? &out->join_ns_uts : nullptr;
      if (!slot || !safe_path(path)) return bad(index, key, "not net|ipc|uts<US>ABSOLUTE-PATH");
      if (!slot->empty()) return bad(index, key, "the same namespace type twice");
      *slot = path;
    } else if (key == "exit-after-parent") {
      if (!parse_bool(value, &out->exit_after_parent)) return bad(index, key, "not 0 or 1");
    } else if (key == "join-userns") {
      uint32_t pid;
      if (!parse_u32(value, &pid) || pid < 2 || pid > 4194304) return bad(index, key, "not a pid");
      out->join_userns_pid = static_cast<pid_t>(pid);
    } else if (key == "preserve-fd") {
      uint32_t fd;
      if (!parse_u32(value, &fd) || fd < 3 || fd > 1 << 20) return bad(index, key, "not an fd number >= 3");
      out->preserve_fds.push_back(static_cast<int>(fd));
    } else if (key == "start-fifo") {
      if (!safe_path(value)) return bad(index, key, "not an absolute path without '..'");
      out->start_fifo = value;
    } else if (key == "cgroup-procs") {
      if (!safe_path(value) || value.rfind("/sys/fs/cgroup/", 0) != 0) return bad(index, key, "not a file under /sys/fs/cgroup");
      out->cgroup_procs.push_back(value);
    } else if (key == "reattach-socket") {
      if (!safe_path(value) || value.size() >= 108) return bad(index, key, "not an absolute path shorter than 108 bytes");
      out->reattach_socket = value;
    } else if (key == "reattach-timeout") {
      if (!parse_u32(value, &out->reattach_timeout) || out->reattach_timeout > 86400)
        return bad(index, key, "not a number of seconds (0..86400)");
    } else if (key == "network") {
      if (value == "none") out->network = NetworkMode::kNone;
      else if (value == "loopback") out->network = NetworkMode::kLoopback;
      else if (value == "zone") out->network = NetworkMode::kZone;
      else return bad(index, key, "not none, loopback or zone");
    } else if (key == "tmp-size") {
      for (char c : value)
        if (!((c >= '0' && c <= '9') || c == 'k' || c == 'm' || c == 'g' || c == '%'))
          return bad(index, key, "not a tmpfs size");
      if (value.empty()) return bad(index, key, "empty");
      out->tmp_size = value;
    } else if (key == "tmpfs") {
      // "TARGET<US>SIZE<US>MODE(octal)[<US>noexec]"
      size_t a = value.find('\x1f'), b = a == std::string::npos ? a : value.find('\x1f', a + 1);
      if (b == std::string::npos) return bad(index, key, "not TARGET<US>SIZE<US>MODE");
      TmpfsMount t;
      t.target = value.substr(0, a);
      t.size = value.substr(a + 1, b - a - 1);
      std::string mode = value.substr(b + 1);
      size_t c = mode.find('\x1f');
      if (c != std::string::npos) {
        if (mode.substr(c + 1) != "noexec") return bad(index, key, "a tmpfs flag other than noexec");
        t.noexec = true;
        mode = mode.substr(0, c);
      }
      bool size_ok = !t.size.empty();
      for (char ch : t.size) size_ok &= (ch >= '0' && ch <= '9') || ch == 'k' || ch == 'm' || ch == 'g';
      bool mode_ok = !mode.empty() && mode.size() <= 4;
      for (char ch : mode) mode_ok &= ch >= '0' && ch <= '7';
      if (!safe_path(t.target) || !size_ok || !mode_ok) return bad(index, key, "bad target, size or mode");
      t.mode = static_cast<uint32_t>(std::strtoul(mode.c_str(), nullptr, 8));
      out->tmpfs.push_back(t);
    } else if (key == "uts-server-filter") {
      if (!parse_hex(value, &out->uts_server_filter) || !valid_filter_size(out->uts_server_filter.size()))
        return bad(index, key, "not a seccomp filter (8-byte instructions, 1 to 4096) in lowercase hex");
    } else if (key == "hide") {
      if (!safe_path(value)) return bad(index, key, "not an absolute path");
      out->hide.push_back(value);
    } else if (key == "bind" || key == "proc-bind") {
      BindMount bind;
      if (!parse_bind(value, &bind) || !safe_path(bind.source) || !safe_path(bind.target))
        return bad(index, key, "not SOURCE<US>TARGET<US>ro|rw with absolute paths");
      (key == "bind" ? out->binds : out->proc_binds).push_back(bind);
    } else if (parse_keeper_record(key, value, out, &why)) {
      if (!why.empty()) return bad(index, key, why);
    } else {
      return bad(index, key, "a key of seam/facts.json this parser does not read");
    }
  }
  if (!saw_version) return Error{0, "config has no version record"};
  if (out->argv.empty()) return Error{0, "config has no arg records (nothing to run)"};
  if (out->root_cow && !out->rootfs.empty()) return Error{0, "root-cow is for the host's root only"};
  // Never the host's own root: its files would become the zone root's.
  if (out->rootfs_idmap && (out->rootfs.empty() || out->rootfs == "/")) return Error{0, "rootfs-idmap is for a directory rootfs"};
  const StdioConfig& io = out->stdio;
  if ((!io.log_stdout.empty() || !io.log_stderr.empty()) && (!io.relay || io.log_file_max == 0))
    return Error{0, "log files need relay-stdio=1 and log-file-max"};
  if (!out->start_fifo.empty() && out->join_pid) return Error{0, "start-fifo is for a new zone, not a join"};
  if (!out->preserve_fds.empty() && out->join_pid) return Error{0, "preserve-fd is for a new zone, not a join"};
  if (out->keeper_in_zone_netns && out->join_pid) return Error{0, "keeper-netns is for a new zone, not a join"};
  bool joins_ns = !out->join_ns_net.empty() || !out->join_ns_ipc.empty() || !out->join_ns_uts.empty() || out->join_userns_pid;
  if (joins_ns && out->join_pid) return Error{0, "join-ns and join-userns are for a new zone, not an exec"};
  if (out->uid >= out->id_count || out->gid >= out->id_count)
    return Error{0, "uid/gid outside the zone's id range"};
  for (uint32_t g : out->groups)
    if (g >= out->id_count) return Error{0, "group outside the zone's id range"};
  return {};
}

}  // namespace lxz
