// Keyrings (issue 14 part 3, issue 21 part 4): a zone's processes start in a
// fresh session keyring of their own, under every profile and under --trace,
// and reach none of the keys of whoever launched them. The launcher here is
// a real `lxzone run` whose session keyring holds a secret (put there by a
// wrapper that joins a named session keyring and adds the key first).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execInZone, startZone } from '../src/zone/run.js';
import { repoRoot, checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

const PY = '/usr/bin/python3';
const KEYCTL = `import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def sc(*a):
    r = libc.syscall(*a)
    return r if r >= 0 else -ctypes.get_errno()
`;

// The attack, from inside the zone: the launcher's keyring and key by serial
// number (describe, read, link into our own session keyring), by name (join
// the launcher's named session keyring, then search it), and by search.
// Negative numbers are -errno.
const ATTACK = `${KEYCTL}
ring, key = int(os.environ["RING"]), int(os.environ["KEY"])
buf = ctypes.create_string_buffer(256)
own = sc(250, 0, -3, 0)
out = {
  "own_session_is_launchers": own == ring,
  "describe_ring": sc(250, 6, ring, buf, 256),
  "read_key": sc(250, 11, key, buf, 256),
  "link_key": sc(250, 8, key, -3),
  "link_ring": sc(250, 8, ring, -3),
  "request_key": sc(249, b"user", b"lxzone-launcher-secret", None, 0),
}
joined = sc(250, 1, b"lxzone-launcher-ring")
out["joined_is_launchers"] = joined == ring
out["search_joined"] = sc(250, 10, joined, b"user", b"lxzone-launcher-secret", 0)
print(json.dumps(out))`;

// The launcher: a named session keyring with the secret in it, then the
// given command (lxzone run …, or the attack itself for the native control).
const LAUNCHER = `${KEYCTL}
ring = sc(250, 1, b"lxzone-launcher-ring")
key = sc(248, b"user", b"lxzone-launcher-secret", b"launcher secret", 15, -3)
assert ring > 0 and key > 0, (ring, key)
os.environ["RING"], os.environ["KEY"] = str(ring), str(key)
argv = [a.replace("@RING@", str(ring)).replace("@KEY@", str(key)) for a in sys.argv[1:]]
os.execv(argv[0], argv)`;

function launch(argv: string[]): Record<string, number | boolean> {
  const out = execFileSync(PY, ['-c', LAUNCHER, ...argv], { cwd: repoRoot, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  return JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | boolean>;
}

const lxzoneRun = (flags: string[]) => [
  process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts'),
  'run', ...flags, '-e', 'RING=@RING@', '-e', 'KEY=@KEY@', '--', PY, '-c', ATTACK,
];

const EACCES = -13;
const ENOKEY = -126;

describe("a zone never reaches its launcher's session keyring", () => {
  it('natively, the same attack reads the secret (the test can tell)', () => {
    const r = launch([PY, '-c', ATTACK]);
    expect(r.own_session_is_launchers).toBe(true);
    expect(r.read_key).toBe(15);
    expect(r.request_key).toBeGreaterThan(0);
  });

  for (const [what, flags] of [
    ['the default profile', []],
    ['the permissive profile', ['--profile', 'permissive']],
    ['--trace (every call)', ['--trace', '--trace-output', '/dev/null']],
    ['the trace profile', ['--profile', 'trace', '--trace-output', '/dev/null']],
  ] as const) {
    it(`under ${what}`, () => {
      const r = launch(lxzoneRun([...flags]));
      expect(r).toEqual({
        own_session_is_launchers: false,
        describe_ring: EACCES,
        read_key: EACCES,
        link_key: EACCES,
        link_ring: EACCES,
        request_key: ENOKEY,
        joined_is_launchers: false,
        search_joined: ENOKEY,
      });
    });
  }
});

describe('exec', () => {
  it("a process exec'd into a zone gets a session keyring of its own too", async () => {
    // The zone's process leaves its session keyring's serial in the zone's /tmp.
    const first = `${KEYCTL}\nopen("/tmp/ring", "w").write(str(sc(250, 0, -3, 0)))\nimport time; time.sleep(30)`;
    const zone = startZone({ argv: [PY, '-c', first], stdio: 'pipe' });
    try {
      const initPid = await zone.initPid;
      // Join once the zone's binary runs (a zone still being built refuses a join).
      const children = `/proc/${initPid}/task/${initPid}/children`;
      const deadline = Date.now() + 10_000;
      while (readFileSync(children, 'utf8').trim() === '' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const second = `${KEYCTL}
import time
for _ in range(200):
    if os.path.exists("/tmp/ring"): break
    time.sleep(0.05)
print(sc(250, 0, -3, 0), open("/tmp/ring").read())`;
      const joined = await execInZone(initPid, { argv: [PY, '-c', second], stdio: 'pipe' }).wait();
      const [own, zones] = (joined.stdout?.toString() ?? '').trim().split(' ').map(Number);
      expect(own).toBeGreaterThan(0);
      expect(zones).toBeGreaterThan(0);
      expect(own).not.toBe(zones);
      // Not the launcher's (this test process's) session keyring either.
      const ours = Number(execFileSync(PY, ['-c', `${KEYCTL}\nprint(sc(250, 0, -3, 0))`]).toString().trim());
      expect(own).not.toBe(ours);
      expect(zones).not.toBe(ours);
    } finally {
      zone.kill('SIGKILL');
      await zone.wait().catch(() => undefined);
    }
  });
});
