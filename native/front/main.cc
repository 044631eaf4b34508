// lxzone-front: `lxzone run` in its plain form without starting Node
// (docs/parts/fast-run.md). bin/lxzone hands it every `lxzone run`; it
// starts the zone from the launch description TypeScript wrote for the same
// flags, or execs Node's CLI (which writes the description for next time).
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "../supervisor/dispatch.h"
#include "../supervisor/handlers/handler.h"
#include "description.h"
#include "fill.h"
#include "inputs.h"
#include "node_fallback.h"
#include "plain_form.h"
#include "relayed_signals.h"
#include "trusted_file.h"
#include "zone_run.h"

namespace {

using namespace lxz::front;

bool debugging() {
  const char* v = std::getenv("LXZONE_DEBUG");
  return v != nullptr && v[0] != '\0';
}

void debug(const std::string& line) {
  if (debugging()) std::fprintf(stderr, "lxzone: front: %s\n", line.c_str());
}

[[noreturn]] void to_node(char** argv, const std::string& why, const std::optional<std::string>& launch_flags = std::nullopt) {
  debug("node runs it: " + why);
  exec_node(argv, launch_flags);
}

// Node's checkOptions (src/zone/shim-plan.ts): the directory is named by its
// real path. Anything else is Node's to report.
bool rootfs_is_real_dir(const std::string& dir) {
  if (dir.empty() || dir[0] != '/') return false;
  struct stat st;
  if (stat(dir.c_str(), &st) < 0 || !S_ISDIR(st.st_mode)) return false;
  char real[PATH_MAX];
  if (realpath(dir.c_str(), real) == nullptr) return false;
  std::string stripped = dir;
  while (!stripped.empty() && stripped.back() == '/') stripped.pop_back();
  return real == stripped || dir == "/";
}

// Node has fds 0-2 open before any of its own: so must we, or a memfd could become the zone's stdout.
void ensure_stdio() {
  for (int fd = 0; fd < 3; fd++)
    if (fcntl(fd, F_GETFD) < 0) open("/dev/null", O_RDWR);
}

bool is_terminal(int fd) { return isatty(fd) == 1; }

}  // namespace

int main(int argc, char** argv) {
  ensure_stdio();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] != "run") to_node(argv, "not `lxzone run`");
  auto plain = parse_plain(std::vector<std::string>(args.begin() + 1, args.end()));
  if (!plain) to_node(argv, "not the plain form of run");
  const std::string flags = canonical_flags(*plain);

  std::string bytes, why;
  Found found = read_trusted_description(runtime_dir(), description_name(flags), &bytes, &why);
  if (found == Found::kAbsent) to_node(argv, "no launch description (" + why + ")", flags);
  if (found == Found::kUntrusted) to_node(argv, "launch description not trusted: " + why, flags);
  const std::string path = why;
  auto desc = parse_description(bytes, &why);
  if (!desc) to_node(argv, path + " is stale: " + why, flags);
  if (desc->flags != flags) to_node(argv, path + " is for other flags", flags);
  if (!inputs_current(*desc, &why)) to_node(argv, path + " is stale: " + why, flags);
  lxz::DispatchTable dispatch;
  lxz::Status st = lxz::DispatchTable::parse(reinterpret_cast<const uint8_t*>(desc->dispatch.data()), desc->dispatch.size(),
                                             lxz::handler_count(), &dispatch);
  if (!st.ok()) to_node(argv, path + " is stale: dispatch: " + st.error().what, flags);

  RunSlots slots;
  slots.argv = plain->command;
  if (const char* term = std::getenv("TERM"); term != nullptr && term[0] != '\0') slots.term = term;
  slots.tty = plain->tty == TtyChoice::kOn || (plain->tty == TtyChoice::kDefault && is_terminal(0) && is_terminal(1));
  // Every slot must be one this front end fills, before anything is claimed or started.
  if (has_id_base_slot(desc->config) != desc->id_claim.has_value()) to_node(argv, path + " is stale: id-base slot without id-claim-dir", flags);
  RunSlots probe = slots;
  probe.id_base = 0;
  if (!fill_config(desc->config, probe, &why)) to_node(argv, path + " is stale: " + why, flags);
  if (plain->rootfs && !rootfs_is_real_dir(*plain->rootfs)) to_node(argv, "--rootfs " + *plain->rootfs + " is not a directory named by its real path");
  debug("using " + path);

  // Node ignores SIGPIPE; a closed stderr must not end us before the zone and its id claim.
  signal(SIGPIPE, SIG_IGN);
  lxz::Fd signals = block_relayed_signals();
  RunEnd end;
  {
    ZoneRunner runner(*desc, std::move(dispatch), signals.get());
    end = runner.run(slots);
  }
  if (!end.error.empty()) std::fprintf(stderr, "lxzone: %s\n", end.error.c_str());
  return end.exit_code;
}
