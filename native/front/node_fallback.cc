#include "node_fallback.h"

#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

namespace lxz::front {
namespace {

// <repo>/bin/lxzone.js from /proc/self/exe = <repo>/build/Release/lxzone-front.
std::string cli_script() {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  std::string path(exe, static_cast<size_t>(n));
  for (int i = 0; i < 3; i++) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return "";
    path.resize(slash);
  }
  return path + "/bin/lxzone.js";
}

}  // namespace

void exec_node(char** argv, const std::optional<std::string>& launch_flags) {
  const std::string script = cli_script();
  if (launch_flags) setenv("LXZONE_LAUNCH_FLAGS", launch_flags->c_str(), 1);
  else unsetenv("LXZONE_LAUNCH_FLAGS");
  std::vector<char*> args;
  std::string node = "node";
  args.push_back(node.data());
  args.push_back(const_cast<char*>(script.c_str()));
  for (char** a = argv + 1; *a != nullptr; a++) args.push_back(*a);
  args.push_back(nullptr);
  execvp("node", args.data());
  std::fprintf(stderr, "lxzone: cannot start node for %s: %s\n", script.c_str(), std::strerror(errno));
  _exit(125);
}

}  // namespace lxz::front
