# runc's --console-socket, the receiving end (what containerd's shim does):
# listen on a unix stream socket, take one terminal master (SCM_RIGHTS), type
# TYPED into it once PROMPT has been read (as a person would: input before
# the process runs may be flushed when its terminal is set up), print the
# message and everything read until UNTIL is seen or the terminal closes.
# Node cannot receive an fd; Python 3.9+ can.
import os, select, socket, sys, time

path, prompt, typed, until = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), sys.argv[4].encode()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
print("ready", file=sys.stderr, flush=True)
s.settimeout(60)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 1024, 1)
master = fds[0]
out = b""
end = time.time() + 60
while time.time() < end and until not in out:
    r, _, _ = select.select([master], [], [], 0.5)
    if not r:
        continue
    try:
        data = os.read(master, 4096)
    except OSError:  # EIO: the last slave closed
        break
    if not data:
        break
    out += data
    if typed and prompt in out:
        os.write(master, typed)
        typed = b""
sys.stdout.write(msg.decode() + "\n" + out.decode(errors="replace"))
