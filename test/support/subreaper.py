#!/usr/bin/env python3
# Runs ARGV as containerd's shim runs a runtime: this process is a child
# subreaper, so what the runtime leaves behind is re-parented to it. Waits
# for the runtime, then reaps every orphan (for at most TIMEOUT seconds) and
# prints one line per reaped process: "pid STATUS" (exit code, or 128+signal),
# the runtime's own as "runtime STATUS".
import ctypes, os, sys, time

PR_SET_CHILD_SUBREAPER = 36
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
timeout = float(os.environ.get("SUBREAPER_TIMEOUT", "30"))
runtime = os.fork()
if runtime == 0:
    os.execvp(sys.argv[1], sys.argv[1:])

def code(status):
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)

deadline = time.time() + timeout
while time.time() < deadline:
    try:
        pid, status = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break  # no children left
    if pid == 0:
        time.sleep(0.02)
        continue
    print("runtime" if pid == runtime else pid, code(status), flush=True)
