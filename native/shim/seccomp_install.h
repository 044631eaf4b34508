// Installs the precompiled filter with a notification listener.
#pragma once
#include <string>
#include "../common/result.h"

namespace lxz {

// Validates the program (size, length a multiple of 8) before use.
Status check_filter(const std::string& filter);

// Sets no_new_privs, installs the filter with SECCOMP_FILTER_FLAG_NEW_LISTENER
// (and WAIT_KILLABLE_RECV when the kernel has it); returns the listener fd.
Status install_filter(const std::string& filter, int* listener_fd);

}  // namespace lxz
