// A zone's log file, written by its keeper (never by the zone: the zone
// writes into a pipe the keeper owns, stdio_relay.h). The file is one of the
// keeper's own fds (1 or 2); when the next bytes would take it past its
// share of the cap, it is renamed to <file>.1 (replacing the previous copy)
// and a new file opened in its place, so the disk never holds more than the
// cap, at any moment, whatever the zone writes. <file>.gen counts rotations
// ("N r" while one is under way), for readers following the log
// (src/zone/lifecycle/logs.ts). A file ends at a line's end where the
// bytes allow it; where they do not (a line longer than what is left of the
// file's share, or one the zone had not finished when its share ran out),
// the next file begins with the rest of that line, and .gen says so after
// the count: "m" when <file>.1 begins mid-line, "c" when <file> does. A
// reader that lost the file before (it fell behind, or the copy holding the
// line's start was replaced) drops that fragment instead of printing it as
// a line of its own.
//
// <file>.idx records when the keeper took each piece of output from the
// zone (its read of the pipe or terminal): 16 bytes per write, the offset in
// <file> where the piece begins and CLOCK_REALTIME in ns (both little-endian
// u64), written before the bytes themselves so a reader never finds bytes
// without their record. It rotates with the file (<file>.1.idx) and counts
// against the file's share of the cap. `docker logs -t/--since/--until` read
// it (src/zone/lifecycle/log-times.ts).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include "../common/result.h"

namespace lxz {

class LogFile {
 public:
  // Opens (creating, 0600, no symlink followed) `path` for appending, as fd
  // `target` of this process.
  Status open(const std::string& path, uint64_t max_bytes, int target);
  bool valid() const { return target_ >= 0; }
  // Appends all of buf, rotating as often as needed. A failing disk loses
  // the bytes (the zone never waits for the disk).
  void write(const char* buf, size_t n);

 private:
  Status reopen(int extra_flags);
  Status rotate();
  void write_generation(const std::string& text);
  // "N" and the flags for readers (above).
  std::string generation_text() const;
  void write_record(uint64_t offset);

  std::string path_;
  uint64_t max_ = 0;
  int target_ = -1;
  uint64_t gen_ = 0;
  // The current file begins with the end of a line begun in the file before it.
  bool begins_mid_line_ = false;
  // <file>.1 begins mid-line (it was the current file at the last rotation).
  bool copy_begins_mid_line_ = false;
  // The last byte written to the current file was not a newline.
  bool ends_mid_line_ = false;
  // The index (<file>.idx): its fd and size; -1 when it cannot be opened (the log is still written).
  int idx_fd_ = -1;
  uint64_t idx_size_ = 0;
};

}  // namespace lxz
