#include "id_claim.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "flat_json.h"
#include "proc_identity.h"

namespace lxz::front {
namespace {

// Where this process looks next (ids.ts: pid-derived at first, then after its last claim).
uint64_t next_slot = static_cast<uint64_t>(getpid());

std::optional<std::string> read_at(int dir, const std::string& name) {
  Fd fd(openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 65536) return std::nullopt;
  }
  if (n < 0) return std::nullopt;
  return out;
}

// holderIsGone: unreadable (a writer died before it finished) counts as gone.
bool holder_is_gone(int dir, const std::string& name) {
  auto text = read_at(dir, name);
  if (!text) return true;
  auto obj = parse_flat_object(*text);
  if (!obj) return true;
  auto pid = obj->find("pid");
  auto start = obj->find("startTime");
  auto boot = obj->find("bootId");
  double p = pid != obj->end() && pid->second.kind == JsonValue::kNumber ? pid->second.number : -1;
  bool has_start = start != obj->end() && start->second.kind == JsonValue::kNumber;
  // A bootId that is there but no string never equals the host's.
  static const std::string not_a_boot_id = "\x01";
  const std::string* b = nullptr;
  if (boot != obj->end()) b = boot->second.kind == JsonValue::kString ? &boot->second.text : &not_a_boot_id;
  return !is_alive(p, has_start, has_start ? start->second.number : 0, b);
}

// claimIsStale: the holder and every sharer gone; dead sharers' files are removed on the way.
bool claim_is_stale(int dir, const std::string& name) {
  if (!holder_is_gone(dir, name)) return false;
  int copy = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return false;
  DIR* d = fdopendir(copy);
  if (d == nullptr) {
    close(copy);
    return false;
  }
  rewinddir(d);
  const std::string prefix = name + ".";
  std::vector<std::string> sharers;
  while (struct dirent* e = readdir(d))
    if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) sharers.push_back(e->d_name);
  closedir(d);
  bool stale = true;
  for (const std::string& s : sharers) {
    if (!holder_is_gone(dir, s)) stale = false;
    else unlinkat(dir, s.c_str(), 0);
  }
  return stale;
}

// writeFileAtomic(path, identity, 0o600, exclusive, not durable): EEXIST when the claim is held.
int write_exclusive(int dir, const std::string& name, const std::string& data) {
  uint32_t rnd = 0;
  if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd) rnd = static_cast<uint32_t>(getpid()) * 2654435761u;
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", rnd);
  const std::string tmp = "." + name + ".tmp-" + std::to_string(getpid()) + "-" + hex;
  Fd fd(openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) return errno;
  size_t off = 0;
  int err = 0;
  while (off < data.size()) {
    ssize_t w = write(fd.get(), data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      err = errno;
      break;
    }
    off += static_cast<size_t>(w);
  }
  fd.reset();
  if (err == 0 && linkat(dir, tmp.c_str(), dir, name.c_str(), 0) < 0) err = errno;
  unlinkat(dir, tmp.c_str(), 0);
  return err;
}

Fd open_claim_dir(const std::string& path, std::string* error) {
  Fd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT && mkdir(path.c_str(), 0700) == 0)
    fd.reset(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    *error = "cannot open the id claim directory " + path + ": " + std::strerror(errno);
    return fd;
  }
  struct stat st;
  if (fstat(fd.get(), &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
    *error = path + " is not a private directory of ours; refusing to use it for lxzone's state";
    fd.reset();
  }
  return fd;
}

}  // namespace

IdClaim& IdClaim::operator=(IdClaim&& o) noexcept {
  if (this != &o) {
    release();
    dir_ = std::move(o.dir_);
    name_ = std::move(o.name_);
    id_base_ = o.id_base_;
    o.name_.clear();
  }
  return *this;
}

std::optional<IdClaim> IdClaim::claim(const IdClaimPlan& plan, std::string* error) {
  Fd dir = open_claim_dir(plan.dir, error);
  if (!dir.valid()) return std::nullopt;
  const std::string identity = own_identity_json();
  const uint64_t start = next_slot % plan.slot_count;
  for (uint64_t i = 0; i < plan.slot_count; i++) {
    const uint64_t slot = plan.first_slot + (start + i) % plan.slot_count;
    const std::string name = std::to_string(slot);
    int err = write_exclusive(dir.get(), name, identity);
    if (err != 0) {
      if (err != EEXIST || !claim_is_stale(dir.get(), name)) continue;
      // Someone else may reclaim it first: then the link fails and we go on.
      if (unlinkat(dir.get(), name.c_str(), 0) < 0 || write_exclusive(dir.get(), name, identity) != 0) continue;
    }
    next_slot = (slot - plan.first_slot + 1) % plan.slot_count;
    IdClaim c;
    c.dir_ = std::move(dir);
    c.name_ = name;
    c.id_base_ = plan.range_start + slot * plan.range_count;
    return c;
  }
  *error = "no free host id range for a zone (" + std::to_string(plan.slot_count) + " one-shot zones running?)";
  return std::nullopt;
}

void IdClaim::release() {
  if (name_.empty()) return;
  unlinkat(dir_.get(), name_.c_str(), 0);
  name_.clear();
  dir_.reset();
}

}  // namespace lxz::front
