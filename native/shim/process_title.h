// What `ps` in a zone shows for the shim's processes that stay in it (the
// zone's pid 1 reaper): a name of ours, never the shim's command line, which
// carries the host path of the installation.
#pragma once

namespace lxz {

/** Called first in main: the argv strings are the area a title is written into. */
void remember_argv(int argc, char** argv);

/** Replaces this process's command line (/proc/self/cmdline) and name (comm) by `title`. */
void set_process_title(const char* title);

}  // namespace lxz
