// Handles on notified threads kept across notifications, so the hot path
// opens nothing per call (issue 18): a pidfd per thread, in a small
// direct-mapped cache per supervisor thread (thread_local: each supervisor
// thread and a serving keeper have their own; nothing is shared or locked).
//
// Why a cached pidfd names the caller without an ID_VALID check: it was
// opened for thread id T and checked against a pending notification of T
// then, so it is that thread's. A thread id names one live thread at a time;
// if the cached thread is alive when the pidfd is used (an operation on it
// succeeds rather than failing with ESRCH), it has held T all along, so the
// notification from T that we serve now is its own. A dead one fails with
// ESRCH: the entry is dropped and a fresh pidfd opened and checked.
#pragma once
#include <sys/types.h>
#include <cstdint>

namespace lxz {

// A pidfd of the notified thread `tid` (a pending notification `id` on
// `listener`), or -1 when none can be had (the call is gone; a kernel before
// 6.9 opens pidfds of thread-group leaders only). Owned by the cache: valid
// until the next call on this thread.
int tracee_pidfd(int listener, uint64_t id, pid_t tid);

// Drops the cached pidfd of `tid` (it failed with ESRCH: the thread is dead).
void forget_tracee(pid_t tid);

// Drops the cached pidfds of `listener`'s threads: its zone is gone or no
// longer served here, and a zone that ended holds no fd of ours.
void forget_tracees_of(int listener);

}  // namespace lxz
