#include "process_title.h"

#include <sys/prctl.h>
#include <cstring>

namespace lxz {
namespace {

char* g_area = nullptr;
size_t g_area_len = 0;

}  // namespace

void remember_argv(int argc, char** argv) {
  if (argc < 1) return;
  // The kernel lays the argument strings out back to back: one area from
  // argv[0] to the NUL of the last argument.
  g_area = argv[0];
  g_area_len = static_cast<size_t>(argv[argc - 1] + std::strlen(argv[argc - 1]) - argv[0]);
}

void set_process_title(const char* title) {
  prctl(PR_SET_NAME, title, 0, 0, 0);
  if (g_area == nullptr) return;
  // Every byte cleared, the last one included: a NUL there tells the kernel
  // the area holds arguments only (it does not read on into the environment).
  std::memset(g_area, 0, g_area_len + 1);
  std::strncpy(g_area, title, g_area_len);
}

}  // namespace lxz
