// Errors as values: a failed step carries errno and a message naming what it
// was doing ("mount /proc"), so the shim and the supervisor can report it
// across a socket instead of unwinding.
#pragma once
#include <cerrno>
#include <cstring>
#include <string>

namespace lxz {

struct Error {
  int err = 0;          // errno, 0 when not a system error
  std::string what;     // the step that failed, e.g. "pivot_root"
  bool formatted = false;  // `what` already carries the errno's text

  std::string message() const {
    if (err == 0 || formatted) return what;
    return what + ": " + std::strerror(err);
  }
};

// A status: empty on success, an Error otherwise.
class Status {
 public:
  Status() = default;
  Status(Error e) : ok_(false), error_(std::move(e)) {}  // NOLINT: implicit by design
  bool ok() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  bool ok_ = true;
  Error error_;
};

inline Error sys_error(std::string what) { return Error{errno, std::move(what)}; }

}  // namespace lxz

// Propagates a failed Status from the enclosing function.
#define LXZ_TRY(expr)                       \
  do {                                      \
    ::lxz::Status lxz_status_ = (expr);     \
    if (!lxz_status_.ok()) return lxz_status_; \
  } while (0)
