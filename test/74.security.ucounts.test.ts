// The kernel charges what is made in a user namespace (nested namespaces,
// inotify instances, the ucount-backed rlimits) also to the namespace's owner
// in the parent. A zone's user namespace is owned by the zone's own first host
// id, not by host root: a zone that uses up such a count uses up its own,
// never host root's (systemd's, udev's, the next zone's start).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
let dir = '';
beforeEach(() => {
  before = hostSnapshot();
  dir = mkdtempSync(join(tmpdir(), 'lxzone-ucounts-'));
  chmodSync(dir, 0o777);
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await expectNothingLeft(before);
});

// Makes inotify instances until the kernel refuses; writes how many to
// /mnt/held, then holds them until the host writes /mnt/go.
const HOG = `
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
fds = []
while len(fds) < 100000:
    fd = libc.inotify_init1(0)
    if fd < 0:
        err = os.strerror(ctypes.get_errno())
        break
    fds.append(fd)
open("/mnt/held", "w").write("%d %s" % (len(fds), err))
end = time.time() + 60
while not os.path.exists("/mnt/go") and time.time() < end:
    time.sleep(0.05)
`;

// One inotify instance of host root's own, now.
function hostInotify(): string {
  const r = spawnSync('python3', ['-c', `
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(0)
print("ok" if fd >= 0 else os.strerror(ctypes.get_errno()))
`], { encoding: 'utf8' });
  return r.stdout.trim();
}

async function waitForFile(path: string, zone: Promise<unknown>): Promise<void> {
  let ended = false;
  void zone.finally(() => (ended = true)).catch(() => {});
  for (let i = 0; i < 600 && !ended && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 100));
}

it("a zone that uses up its inotify instances leaves host root's", async () => {
  const max = Number(readFileSync('/proc/sys/fs/inotify/max_user_instances', 'utf8'));
  const zone = runZone({
    argv: ['/usr/bin/python3', '-c', HOG],
    stdio: 'pipe',
    cwd: '/',
    binds: [{ host: dir, zone: '/mnt', readOnly: false }],
  });
  // /mnt: a bind needs a target in the zone's read-only root.
  let hostWhileHeld = '';
  let held = '';
  try {
    await waitForFile(join(dir, 'held'), zone);
    held = existsSync(join(dir, 'held')) ? readFileSync(join(dir, 'held'), 'utf8') : '';
    hostWhileHeld = hostInotify();
  } finally {
    writeFileSync(join(dir, 'go'), '');
  }
  const r = await zone;
  expect(r.stderr?.toString()).toBe('');
  // The zone's own count runs out at the whole limit (host root's own
  // instances, systemd's among them, are not in it) ...
  expect(held).toBe(`${max} Too many open files`);
  // ... and host root can still make one while the zone holds them all.
  expect(hostWhileHeld).toBe('ok');
});
