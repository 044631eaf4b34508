// The emulated calls attacked from inside real zones (issue 14 part 5, issue
// 21 part 9): results written into pages the caller may not write, syslog's
// privilege and argument checks, and sysinfo's process count when the zone's
// init plants a symlink or a directory where the supervisor looks for /proc.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

const out = (r: { stdout?: Buffer; stderr?: Buffer }) => `${(r.stdout ?? Buffer.alloc(0)).toString()}${(r.stderr ?? Buffer.alloc(0)).toString()}`;
const py = (code: string) => ['/usr/bin/python3', '-c', code];
const LIBC = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
def call(nr, *a):
    r = libc.syscall(nr, *a)
    return (r, ctypes.get_errno() if r < 0 else 0)
`;

// A page filled with 0x5a, then made read-only or PROT_NONE; the call writes
// its result there. Prints the result, then whether the page still holds
// only 0x5a (read back after making it readable again).
const INTO_PROTECTED = (nr: number, prot: number) => `${LIBC}
p = libc.mmap(None, 4096, 3, 0x22, -1, 0)
ctypes.memset(p, 0x5a, 4096)
libc.mprotect(p, 4096, ${prot})
r = call(${nr}, ctypes.c_void_p(p))
libc.mprotect(p, 4096, 1)
print(r[0], r[1], ctypes.string_at(p, 4096) == b"\\x5a" * 4096)`;

const SYS_UNAME = 63;
const SYS_SYSINFO = 99;
const SYS_SYSLOG = 103;

describe('emulated results honour page protections', () => {
  for (const [name, nr] of [['uname', SYS_UNAME], ['sysinfo', SYS_SYSINFO]] as const) {
    for (const [what, prot] of [['read-only', 1], ['PROT_NONE', 0]] as const) {
      it(`${name} into a ${what} page fails with EFAULT and writes nothing, as natively`, async () => {
        const native = execFileSync('/usr/bin/python3', ['-c', INTO_PROTECTED(nr, prot)]).toString().trim();
        expect(native).toBe('-1 14 True');
        const r = await runZone({ argv: py(INTO_PROTECTED(nr, prot)), stdio: 'pipe' });
        expect(out(r).trim()).toBe('-1 14 True');
      });
    }
  }

  it('uname into a writable page still works (the control)', async () => {
    const r = await runZone({ argv: py(INTO_PROTECTED(SYS_UNAME, 3)), hostname: 'faulty', stdio: 'pipe' });
    expect(out(r).trim()).toBe('0 0 False');
  });
});

describe('syslog checks privilege, then arguments, as Linux does', () => {
  // CLEAR (5) always needs CAP_SYSLOG; an unknown action (99) too before it
  // is EINVAL; READ_ALL (3) with a NULL buffer is EINVAL, with a buffer past
  // the top of user space EFAULT.
  const SYSLOG = `${LIBC}
buf = ctypes.create_string_buffer(64)
print(call(${SYS_SYSLOG}, 5, None, 0), call(${SYS_SYSLOG}, 99, None, 0), call(${SYS_SYSLOG}, 3, None, 10),
      call(${SYS_SYSLOG}, 3, ctypes.c_void_p(0x7ffffffffff00000), 4096), call(${SYS_SYSLOG}, 3, buf, 64), call(${SYS_SYSLOG}, 8, None, 9))`;

  it("grants the zone's root (CAP_SYSLOG in the zone) and checks its arguments", async () => {
    const r = await runZone({ argv: py(SYSLOG), stdio: 'pipe' });
    expect(out(r).trim()).toBe('(0, 0) (-1, 22) (-1, 22) (-1, 14) (0, 0) (-1, 22)');
  });

  it('refuses a zone user without CAP_SYSLOG with EPERM, whatever the arguments', async () => {
    const r = await runZone({ argv: py(SYSLOG), uid: 1000, gid: 1000, stdio: 'pipe' });
    const [clear, bad] = out(r).trim().match(/\(-?\d+, \d+\)/g)!;
    expect(clear).toBe('(-1, 1)');
    expect(bad).toBe('(-1, 1)');
  });
});

describe("sysinfo counts the zone's processes in the zone's own procfs", () => {
  const hostProcs = () => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;

  // The zone's pid 1 (no reaper) chroots into a directory of its own where
  // "proc" is a symlink to the host's /proc as the supervisor would resolve it
  // (an absolute link followed as host root), or a directory of numbered
  // entries: a supervisor that resolves /proc/<init>/root/proc counts those.
  const CHROOT = (plant: string) => `${LIBC}
class S(ctypes.Structure):
    _fields_ = [("uptime", ctypes.c_long), ("loads", ctypes.c_ulong * 3), ("totalram", ctypes.c_ulong), ("freeram", ctypes.c_ulong),
                ("sharedram", ctypes.c_ulong), ("bufferram", ctypes.c_ulong), ("totalswap", ctypes.c_ulong), ("freeswap", ctypes.c_ulong),
                ("procs", ctypes.c_ushort), ("pad", ctypes.c_ushort), ("totalhigh", ctypes.c_ulong), ("freehigh", ctypes.c_ulong), ("mem_unit", ctypes.c_uint)]
os.makedirs("/tmp/r", exist_ok=True)
${plant}
os.chroot("/tmp/r")
s = S()
print(libc.sysinfo(ctypes.byref(s)), s.procs)`;

  it('a symlink planted at the chrooted /proc is not followed to the host', async () => {
    expect(hostProcs()).toBeGreaterThan(20);
    const r = await runZone({ argv: py(CHROOT('os.symlink("/proc", "/tmp/r/proc")')), init: false, stdio: 'pipe' });
    const [ret, procs] = out(r).trim().split(' ').map(Number);
    expect(ret).toBe(0);
    expect(procs).toBeGreaterThanOrEqual(1);
    expect(procs).toBeLessThan(5);
  });

  it('a directory of 3000 numbered entries planted there is not counted', async () => {
    const plant = 'os.makedirs("/tmp/r/proc")\nfor i in range(1, 3001): open("/tmp/r/proc/%d" % i, "w").close()';
    const r = await runZone({ argv: py(CHROOT(plant)), init: false, stdio: 'pipe' });
    const [ret, procs] = out(r).trim().split(' ').map(Number);
    expect(ret).toBe(0);
    expect(procs).toBeLessThan(5);
  });
});

describe('ustat answers only for filesystems the zone has mounted', () => {
  // ustat(dev) natively answers for any superblock of the host; in a zone the
  // supervisor looks the device up among the caller's own mounts (opened in
  // its root without following symlinks).
  const USTAT = (path: string) => `${LIBC}
buf = ctypes.create_string_buffer(32)
print(*call(136, ctypes.c_uint(os.stat("${path}").st_dev if "${path}" != "HOST" else int(os.environ["HOSTDEV"])), buf))`;

  it("answers for the zone's own /tmp and root, as natively", async () => {
    const r = await runZone({ argv: py(`${USTAT('/tmp')}\n${USTAT('/').split('\n').pop()}`), stdio: 'pipe' });
    expect(out(r).trim()).toBe('0 0\n0 0');
  });

  it("refuses a host filesystem the zone cannot see (the host's procfs), which Linux would answer for", async () => {
    const hostDev = Number(execFileSync('stat', ['-c', '%d', '/proc']).toString().trim());
    const native = execFileSync('/usr/bin/python3', ['-c', USTAT('HOST')], { env: { ...process.env, HOSTDEV: String(hostDev) } }).toString().trim();
    expect(native).toBe('0 0');
    const r = await runZone({ argv: py(USTAT('HOST')), env: { HOSTDEV: String(hostDev) }, stdio: 'pipe' });
    expect(out(r).trim()).toBe('-1 22');
  });
});

describe('masked /proc files read as empty, as in Docker; /proc/config.gz is the kernel\'s', () => {
  it('masked files open and read empty (no EACCES), and stay /dev/null, read-only and locked', async () => {
    const files = ['keys', 'timer_list', 'kallsyms', 'vmallocinfo', 'sysrq-trigger', 'kcore', 'sched_debug', 'latency_stats']
      .filter((f) => existsSync(`/proc/${f}`));
    expect(files.length).toBeGreaterThan(2);
    const code = `${LIBC}
import stat
for f in ${JSON.stringify(files)}:
    p = "/proc/" + f
    st = os.stat(p)
    with open(p, "rb") as fh:
        data = fh.read(4096)
    print(f, stat.S_ISCHR(st.st_mode), os.major(st.st_rdev), os.minor(st.st_rdev), len(data))
print("umount", *call(166, b"/proc/keys", 2))`;
    const r = await runZone({ argv: py(code), stdio: 'pipe' });
    // umount(2) reaches the kernel now (the zone may unmount what it mounted itself); a mask is a
    // locked mount, made above the zone's user namespace: the kernel refuses to drop it (EINVAL).
    expect(out(r).trim().split('\n')).toEqual([...files.map((f) => `${f} True 1 3 0`), 'umount -1 22']);
  });

  it("/proc/config.gz reads as the running kernel's configuration", async () => {
    if (!existsSync('/proc/config.gz')) return; // a kernel without IKCONFIG_PROC: no file natively either
    const host = readFileSync('/proc/config.gz');
    const r = await runZone({ argv: ['/bin/cat', '/proc/config.gz'], stdio: 'pipe' });
    expect(r.exitCode).toBe(0);
    expect(Buffer.compare(r.stdout ?? Buffer.alloc(0), host)).toBe(0);
  });
});
