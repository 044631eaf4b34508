// SO_SNDBUFFORCE / SO_RCVBUFFORCE in a zone (issue 21.2): Linux asks
// CAP_NET_ADMIN of the host's user namespace for them, so the supervisor
// (native/supervisor/handlers/sockbuf.cc) sets them for the zone's root on
// the caller's own socket when the zone has a memory cap, clamped to half
// the cap (the kernel doubles the value; socket memory is charged to the
// zone). Natively and in a capped zone: the same buffer sizes. Then the
// attacks: a value past the cap, a zone user, a nested namespace's root, a
// zone without a cap, a pipe, a bad fd, a bad pointer, a short length.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { runZone, type RunOptions } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

// One line per step: "step SNDBUF/RCVBUF-after" or "step ERRNO".
const PROBE = String.raw`
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r, w = os.pipe()
for step in sys.argv[1:]:
    kind, _, arg = step.partition('=')
    opt = 32 if kind.startswith('snd') else 33
    get = 7 if opt == 32 else 8
    v = ctypes.c_int(int(arg or 0))
    fd, ptr, n = s.fileno(), ctypes.byref(v), 4
    if kind.endswith('pipe'): fd = w
    if kind.endswith('badfd'): fd = 999
    if kind.endswith('fault'): ptr = ctypes.c_void_p(8)
    if kind.endswith('short'): n = 2
    rc = libc.setsockopt(fd, 1, opt, ptr, n)
    print(step, errno.errorcode[ctypes.get_errno()] if rc else s.getsockopt(socket.SOL_SOCKET, get))
`;

const CAP = 64 * 1024 * 1024;
const CAPPED: Partial<RunOptions> = { limits: { memory: CAP } };
const STEPS = ['snd=4194304', 'rcv=6291456'];

async function probe(steps: string[], opts: Partial<RunOptions> = {}, prefix: string[] = []): Promise<string[]> {
  const r = await runZone({ argv: [...prefix, '/usr/bin/python3', '-c', PROBE, ...steps], stdio: 'pipe', ...opts });
  expect(r.stderr?.toString() ?? '').toBe('');
  expect(r.exitCode).toBe(0);
  return (r.stdout?.toString() ?? '').trim().split('\n');
}

describe("a zone's root forces a socket's buffer sizes", () => {
  it('in a zone with a memory cap: the sizes root gets natively', async () => {
    const native = execFileSync('/usr/bin/python3', ['-c', PROBE, ...STEPS]).toString().trim().split('\n');
    expect(native).toEqual(['snd=4194304 8388608', 'rcv=6291456 12582912']);
    expect(await probe(STEPS, CAPPED)).toEqual(native);
  });

  it('never past half the cap, and only on a socket, with the kernel\'s errors', async () => {
    expect(await probe([`snd=${CAP * 4}`, `rcv=${2 ** 31 - 1}`, 'snd-pipe=65536', 'snd-badfd=65536', 'snd-fault', 'rcv-short=65536'], CAPPED)).toEqual([
      `snd=${CAP * 4} ${CAP}`,
      `rcv=${2 ** 31 - 1} ${CAP}`,
      'snd-pipe=65536 ENOTSOCK',
      'snd-badfd=65536 EBADF',
      'snd-fault EFAULT',
      'rcv-short=65536 EINVAL',
    ]);
  });

  it('nowhere else: a zone user, a nested namespace root, a zone without a memory cap', async () => {
    expect(await probe(STEPS, { ...CAPPED, uid: 1000, gid: 1000 })).toEqual(['snd=4194304 EPERM', 'rcv=6291456 EPERM']);
    expect(await probe(STEPS, CAPPED, ['/usr/bin/unshare', '-r'])).toEqual(['snd=4194304 EPERM', 'rcv=6291456 EPERM']);
    expect(await probe(STEPS)).toEqual(['snd=4194304 EPERM', 'rcv=6291456 EPERM']);
  });
});
