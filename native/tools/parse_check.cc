// lxzone-parse-check: the C++ parsers of lxzone's two binary inputs, and of
// the mountinfo the shim and the supervisor read, run on stdin without root
// and without making a zone, so tests can hand them what TypeScript encodes
// (and what an attacker might) and read what C++ made of it.
//
//   lxzone-parse-check config                 shim config records -> JSON
//   lxzone-parse-check dispatch [ABI:NR ...]  dispatch table -> JSON (+ handler ids)
//   lxzone-parse-check mountinfo              /proc/PID/mountinfo text -> JSON
//
// Exit 0 with JSON on stdout, or 1 with "error: ERRNO MESSAGE" on stdout.
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../common/mountinfo.h"
#include "../shim/config.h"
#include "../supervisor/dispatch.h"

namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') out += '\\', out += static_cast<char>(c);
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + "\"";
}

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); i++) out += (i ? "," : "") + quote(v[i]);
  return out + "]";
}

int error(const lxz::Error& e) {
  std::printf("error: %d %s\n", e.err, e.message().c_str());
  return 1;
}

int config(const std::string& bytes) {
  lxz::ShimConfig c;
  lxz::Status s = lxz::parse_config(bytes, &c);
  if (!s.ok()) return error(s.error());
  std::vector<std::string> binds, proc_binds, tmpfs;
  for (const auto& b : c.binds) binds.push_back(b.source + " -> " + b.target + (b.readonly ? " ro" : " rw"));
  for (const auto& b : c.proc_binds) proc_binds.push_back(b.source + " -> " + b.target + (b.readonly ? " ro" : " rw"));
  for (const auto& t : c.tmpfs) tmpfs.push_back(t.target + " size=" + t.size);
  const char* net = c.network == lxz::NetworkMode::kNone ? "none" : c.network == lxz::NetworkMode::kZone ? "zone" : "loopback";
  std::printf(
      "{\"argv\":%s,\"env\":%s,\"rootfs\":%s,\"rootfsWritable\":%s,\"hostname\":%s,\"cwd\":%s,\"idBase\":%u,\"idCount\":%u,"
      "\"uid\":%u,\"gid\":%u,\"init\":%s,\"tty\":%s,\"system\":%s,\"network\":\"%s\",\"tmpSize\":%s,\"binds\":%s,\"procBinds\":%s,"
      "\"tmpfs\":%s,\"cgroupProcs\":%s,\"hide\":%s,\"serveDriverFilterBytes\":%zu,\"utsServerFilterBytes\":%zu}\n",
      list(c.argv).c_str(), list(c.env).c_str(), quote(c.rootfs).c_str(), c.rootfs_writable ? "true" : "false",
      quote(c.hostname).c_str(), quote(c.cwd).c_str(), c.id_base, c.id_count, c.uid, c.gid, c.init ? "true" : "false",
      c.tty ? "true" : "false", c.system ? "true" : "false", net, quote(c.tmp_size).c_str(), list(binds).c_str(), list(proc_binds).c_str(),
      list(tmpfs).c_str(), list(c.cgroup_procs).c_str(), list(c.hide).c_str(), c.serve.driver_filter.size(), c.uts_server_filter.size());
  return 0;
}

int dispatch(const std::string& bytes, int argc, char** argv) {
  lxz::DispatchTable t;
  lxz::Status s = lxz::DispatchTable::parse(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), lxz::kHandlerCount, &t);
  if (!s.ok()) return error(s.error());
  const uint32_t arches[] = {lxz::kAuditArchX8664, lxz::kAuditArchI386, lxz::kAuditArchAarch64};
  std::string abis = "[";
  bool first = true;
  for (uint32_t a : arches) {
    int i = t.abi_index(a);
    if (i < 0) continue;
    abis += (first ? "" : ",") + quote(t.abi_name(i));
    first = false;
  }
  abis += "]";
  std::string handlers = "{";
  for (int k = 2; k < argc; k++) {
    const char* colon = std::strchr(argv[k], ':');
    if (!colon) continue;
    std::string abi(argv[k], colon - argv[k]);
    long long nr = std::strtoll(colon + 1, nullptr, 10);
    int index = -1;
    for (uint32_t a : arches) {
      int i = t.abi_index(a);
      if (i >= 0 && t.abi_name(i) == abi) index = i;
    }
    handlers += (k > 2 ? "," : "") + quote(argv[k]) + ":" + std::to_string(t.handler(index, nr));
  }
  handlers += "}";
  std::printf("{\"abis\":%s,\"unsupportedSigsys\":%s,\"handlers\":%s}\n", abis.c_str(), t.unsupported_sigsys() ? "true" : "false",
              handlers.c_str());
  return 0;
}

int mountinfo(const std::string& text) {
  std::string out = "[";
  bool first = true;
  for (const lxz::MountEntry& m : lxz::parse_mountinfo(text)) {
    out += std::string(first ? "" : ",") + "{\"id\":" + quote(m.id) + ",\"parent\":" + quote(m.parent) + ",\"dev\":" +
           quote(std::to_string(major(m.dev)) + ":" + std::to_string(minor(m.dev))) + ",\"point\":" + quote(m.point) +
           ",\"fstype\":" + quote(m.fstype) + "}";
    first = false;
  }
  std::printf("%s]\n", out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || (std::strcmp(argv[1], "config") && std::strcmp(argv[1], "dispatch") && std::strcmp(argv[1], "mountinfo"))) {
    std::fprintf(stderr, "usage: lxzone-parse-check config | dispatch [ABI:NR ...] | mountinfo < input\n");
    return 2;
  }
  std::string bytes;
  lxz::Status s = lxz::read_all(0, 64 << 20, &bytes, "stdin");
  if (!s.ok()) return error(s.error());
  if (std::strcmp(argv[1], "mountinfo") == 0) return mountinfo(bytes);
  return std::strcmp(argv[1], "config") == 0 ? config(bytes) : dispatch(bytes, argc, argv);
}
