#include "zone_run.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <optional>

#include "id_claim.h"
#include "launch.h"
#include "node_names.h"
#include "relayed_signals.h"

namespace lxz::front {
namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

// After the keeper's exit, how long its last control messages may take (run.ts).
constexpr uint64_t kCloseWaitMs = 2000;
constexpr int kZoneFailure = 125;

uint64_t monotonic_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

ZoneOptions options_of(const LaunchDescription& d) {
  ZoneOptions o;
  o.hostname = d.hostname;
  o.kernel_version = d.kernel_version.value_or("");
  o.kernel_version_env = d.kernel_version_env;
  o.trace_string_args.assign(d.trace_string_args.begin(), d.trace_string_args.end());
  o.driver_filter.assign(d.driver_filter.begin(), d.driver_filter.end());
  return o;
}

// session.ts onEvent: what an exec failure says, and its exit code.
RunEnd exec_failure(int err, const std::string& path) {
  const std::string code = errno_name(err);
  const std::string why = code == "ENOENT" ? "no such file or directory" : code == "EACCES" ? "permission denied" : code;
  return {code == "ENOENT" ? 127 : 126, "cannot run " + path + " in the zone: " + why + " (" + code + ")"};
}

}  // namespace

ZoneRunner::ZoneRunner(const LaunchDescription& d, DispatchTable dispatch, int signal_fd)
    : d_(d),
      dispatch_(std::move(dispatch)),
      options_(options_of(d)),
      signal_fd_(signal_fd),
      supervisor_([this](std::vector<Event>&& batch) { queue_.push(std::move(batch)); }, 1) {}

ZoneRunner::~ZoneRunner() { supervisor_.stop(); }

ZoneRunner::Once ZoneRunner::run_once(RunSlots slots) {
  Once out;
  std::optional<IdClaim> claim;
  if (d_.id_claim) {
    std::string error;
    claim = IdClaim::claim(*d_.id_claim, &error);
    if (!claim) return {{kZoneFailure, error}};
    slots.id_base = claim->id_base();
  }
  std::string error;
  auto config = fill_config(d_.config, slots, &error);
  if (!config) return {{kZoneFailure, "launch description: " + error}};
  auto shim = start_shim(d_.shim, *config, d_.filter, &error);
  if (!shim) return {{kZoneFailure, error}};
  const uint32_t zone = supervisor_.attach(shim->control.release(), dispatch_, options_);

  bool exited = false, closed = false;
  siginfo_t status = {};
  uint64_t exited_at = 0;
  std::optional<RunEnd> failure;
  while (!(exited && closed)) {
    int timeout = -1;
    if (exited) {
      uint64_t waited = monotonic_ms() - exited_at;
      if (waited >= kCloseWaitMs) break;
      timeout = static_cast<int>(kCloseWaitMs - waited);
    }
    struct pollfd fds[3] = {{signal_fd_, POLLIN, 0}, {queue_.fd(), POLLIN, 0}, {exited ? -1 : shim->pidfd.get(), POLLIN, 0}};
    if (poll(fds, 3, timeout) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents & POLLIN) {
      // A signal for us is the zone's while its keeper runs (run.ts kill).
      while (int sig = next_signal(signal_fd_))
        if (!exited) supervisor_.send(zone, ControlType::kSignal, sig);
    }
    if (fds[2].revents & POLLIN) {
      if (waitid(P_PIDFD, static_cast<id_t>(shim->pidfd.get()), &status, WEXITED | WNOHANG) < 0) {
        if (errno != EINTR) {
          // ECHILD: someone else reaped it; lost, as the addon reports it.
          status.si_code = CLD_EXITED;
          status.si_status = 255;
          exited = true;
        }
      } else if (status.si_pid != 0) {
        exited = true;
      }
      if (exited) {
        exited_at = monotonic_ms();
        claim.reset();  // run.ts releases the range when the keeper has exited
      }
    }
    if (fds[1].revents & POLLIN) {
      for (const Event& e : queue_.take()) {
        if (e.zone != zone) continue;
        switch (e.type) {
          case EventType::kSetupFailed:
            if (!failure) failure = RunEnd{kZoneFailure, "zone setup failed: " + (e.text.empty() ? errno_name(e.a) : e.text)};
            break;
          case EventType::kExecFailed:
            failure = exec_failure(e.a, e.text.empty() ? slots.argv[0] : e.text);
            break;
          case EventType::kReboot:
            out.reboot = e.a == 1 ? Reboot::kRestart : Reboot::kHalt;
            break;
          case EventType::kJsCall:
            // No TypeScript handlers here: ENOSYS, as session.ts answers a call it has no handler for.
            supervisor_.respond(zone, e.id, 0, ENOSYS);
            break;
          case EventType::kClosed:
            closed = true;
            break;
          default:
            break;
        }
      }
    }
  }
  supervisor_.detach(zone);
  if (failure) {
    out.end = *failure;
    return out;
  }
  if (status.si_code != CLD_EXITED) {
    // The keeper itself was killed: its zone died with it (die-with-parent).
    const std::string name = signal_name(status.si_status);
    const int n = name == "SIGKILL" ? SIGKILL : status.si_status;
    out.end = {128 + n, "the zone's keeper was killed by " + name};
    return out;
  }
  // endOf: a halt from inside the zone is a clean exit.
  out.end.exit_code = out.reboot == Reboot::kHalt ? 0 : status.si_status;
  return out;
}

bool ZoneRunner::signalled_within(uint64_t ms) {
  const uint64_t until = monotonic_ms() + ms;
  for (;;) {
    if (next_signal(signal_fd_) != 0) return true;
    const uint64_t now = monotonic_ms();
    if (now >= until) return false;
    struct pollfd p = {signal_fd_, POLLIN, 0};
    poll(&p, 1, static_cast<int>(until - now));
  }
}

RunEnd ZoneRunner::run(const RunSlots& slots) {
  uint64_t n = 0;
  for (;;) {
    const uint64_t started = monotonic_ms();
    Once once = run_once(slots);
    if (!once.end.error.empty() || once.reboot != Reboot::kRestart) return once.end;
    if (monotonic_ms() - started >= d_.restart.series_reset_ms) n = 0;
    if (n >= d_.restart.burst) return {kZoneFailure, "the zone is not run again: " + d_.restart.limit_reason};
    // A signal while backing off ends the series with the last run's result.
    if (signalled_within(d_.restart.delay_ms[n])) return once.end;
    n++;
  }
}

}  // namespace lxz::front
