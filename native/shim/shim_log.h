// What the keeper reports goes to its stderr (the caller's, or the zone's
// log file: log_file.h), named as the shim's.
#pragma once
#include <stdio.h>

#include <string>

namespace lxz {

inline void log_error(const std::string& what) { dprintf(2, "lxzone-shim: %s\n", what.c_str()); }

}  // namespace lxz
