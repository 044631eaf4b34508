#include "log_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace lxz {
namespace {

bool write_all(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

constexpr uint64_t kRecordBytes = 16;

void put_le64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = static_cast<unsigned char>(v >> (8 * i));
}

}  // namespace

void LogFile::write_record(uint64_t offset) {
  if (idx_fd_ < 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  unsigned char rec[kRecordBytes];
  put_le64(rec, offset);
  put_le64(rec + 8, static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec));
  if (write_all(idx_fd_, reinterpret_cast<const char*>(rec), sizeof rec)) idx_size_ += sizeof rec;
}

Status LogFile::reopen(int extra_flags) {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | extra_flags, 0600);
  if (fd < 0) return sys_error("open log " + path_);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return Error{EINVAL, "log " + path_ + " is not a regular file"};
  }
  // Our own fd 1 or 2: what the keeper itself reports lands in the log too.
  if (fd != target_) {
    if (dup2(fd, target_) < 0) {
      int e = errno;
      close(fd);
      return Error{e, "dup2 log " + path_};
    }
    close(fd);
  }
  // The index beside it; without one the log is still written (its lines then have no time).
  if (idx_fd_ >= 0) close(idx_fd_);
  idx_fd_ = ::open((path_ + ".idx").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | extra_flags, 0600);
  idx_size_ = 0;
  if (idx_fd_ >= 0) {
    if (fstat(idx_fd_, &st) < 0 || !S_ISREG(st.st_mode)) {
      close(idx_fd_);
      idx_fd_ = -1;
    } else {
      idx_size_ = static_cast<uint64_t>(st.st_size);
    }
  }
  return {};
}

Status LogFile::open(const std::string& path, uint64_t max_bytes, int target) {
  path_ = path;
  max_ = max_bytes < 4096 ? 4096 : max_bytes;
  target_ = target;
  // A keeper before us (the zone restarted) may have left a count and flags.
  int fd = ::open((path_ + ".gen").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    char buf[32] = {};
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n > 0) {
      char* flags = nullptr;
      gen_ = std::strtoull(buf, &flags, 10);
      copy_begins_mid_line_ = strchr(flags, 'm') != nullptr;
      begins_mid_line_ = strchr(flags, 'c') != nullptr;
    }
  }
  Status s = reopen(0);
  if (!s.ok()) {
    target_ = -1;
    return s;
  }
  struct stat st;
  char last = '\n';
  if (fstat(target_, &st) == 0 && st.st_size > 0 && pread(target_, &last, 1, st.st_size - 1) != 1) last = '\n';
  ends_mid_line_ = last != '\n';
  return s;
}

std::string LogFile::generation_text() const {
  std::string flags;
  // The copy is the file that was current before the last rotation: it
  // begins mid-line when that file did.
  if (copy_begins_mid_line_) flags += 'm';
  if (begins_mid_line_) flags += 'c';
  return flags.empty() ? std::to_string(gen_) : std::to_string(gen_) + " " + flags;
}

void LogFile::write_generation(const std::string& text) {
  std::string tmp = path_ + ".gen.tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = write_all(fd, text.data(), text.size());
  close(fd);
  if (ok) rename(tmp.c_str(), (path_ + ".gen").c_str());
}

Status LogFile::rotate() {
  write_generation(std::to_string(gen_) + " r");
  if (rename(path_.c_str(), (path_ + ".1").c_str()) < 0 && errno != ENOENT) return sys_error("rotate log " + path_);
  if (rename((path_ + ".idx").c_str(), (path_ + ".1.idx").c_str()) < 0 && errno != ENOENT) return sys_error("rotate log index " + path_);
  // O_TRUNC: whatever stands at the path now is ours to replace.
  LXZ_TRY(reopen(O_TRUNC));
  gen_++;
  copy_begins_mid_line_ = begins_mid_line_;
  begins_mid_line_ = ends_mid_line_;
  ends_mid_line_ = false;
  write_generation(generation_text());
  return {};
}

void LogFile::write(const char* buf, size_t n) {
  if (target_ < 0) return;
  while (n > 0) {
    struct stat st;
    if (fstat(target_, &st) < 0) return;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    // The index's record for these bytes counts against the cap too.
    uint64_t used = size + idx_size_ + kRecordBytes;
    if (used >= max_) {
      if (size == 0 && idx_size_ == 0) return;  // cannot happen (max_ >= 4096); never loop
      if (!rotate().ok()) return;
      continue;
    }
    size_t k = n < max_ - used ? n : static_cast<size_t>(max_ - used);
    if (k < n) {
      // A rotation follows: end this file at a line's end where there is
      // one, so a reader that skips a file never joins two halves of lines.
      const void* nl = memrchr(buf, '\n', k);
      if (nl) k = static_cast<size_t>(static_cast<const char*>(nl) - buf) + 1;
      else if (size > 0) k = 0;  // the line starts in the next file
      if (k == 0) {
        if (!rotate().ok()) return;
        continue;
      }
    }
    write_record(size);
    if (!write_all(target_, buf, k)) return;
    ends_mid_line_ = buf[k - 1] != '\n';
    buf += k;
    n -= k;
  }
}

}  // namespace lxz
