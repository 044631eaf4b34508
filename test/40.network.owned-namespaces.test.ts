// A zone's namespaces belong to the zone's user namespace (issue 21.2, LXC's
// unprivileged model), and the consequence issue 14.10 asked for: the
// kernel sends host uevents only to network namespaces owned by the host's
// user namespace, so none reaches a zone.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

// Counts NETLINK_KOBJECT_UEVENT messages (group 1) for `seconds`; prints the count.
const UEVENT_LISTENER = `
import socket, time, sys
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)
s.bind((0, 1))
s.settimeout(0.2)
print("listening", flush=True)
n, end = 0, time.time() + float(sys.argv[1])
while time.time() < end:
    try:
        s.recv(65536); n += 1
    except socket.timeout:
        pass
print(n, flush=True)
`;

// For each namespace kind: does NS_GET_USERNS of it name our own user namespace?
const OWNERS = `
import os, fcntl
NS_GET_USERNS = 0xb701
own = os.stat("/proc/self/ns/user").st_ino
for kind in ["net", "uts", "ipc", "mnt", "cgroup", "pid"]:
    fd = os.open("/proc/self/ns/" + kind, os.O_RDONLY)
    try:
        owner = fcntl.ioctl(fd, NS_GET_USERNS)
        print(kind, "own" if os.fstat(owner).st_ino == own else "other")
    except PermissionError:
        # EPERM: the owner is outside our user namespace (an ancestor's).
        print(kind, "other")
`;

function hostListener(seconds: number): { ready: Promise<void>; count: Promise<number> } {
  const p = spawn('python3', ['-c', UEVENT_LISTENER, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((r) => (markReady = r));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('listening')) markReady();
  });
  const count = new Promise<number>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', () => resolve(Number(out.trim().split('\n').pop())));
  });
  return { ready, count };
}

describe("a zone's namespaces", () => {
  it("are owned by the zone's user namespace (network, UTS, IPC, mount, cgroup); the pid namespace is the host's", async () => {
    const r = await runZone({ argv: ['/usr/bin/python3', '-c', OWNERS], stdio: 'pipe' });
    expect(r.stderr?.toString()).toBe('');
    expect(r.stdout?.toString().trim().split('\n')).toEqual([
      'net own', 'uts own', 'ipc own', 'mnt own', 'cgroup own', 'pid other',
    ]);
  });

  it('receive no host uevents, while a listener on the host gets them', async () => {
    const host = hostListener(6);
    await host.ready;
    // Host uevents for the host's loopback device, every 100 ms while the zone listens.
    const trigger = setInterval(() => writeFileSync('/sys/class/net/lo/uevent', 'change'), 100);
    try {
      const zone = await runZone({ argv: ['/usr/bin/python3', '-c', UEVENT_LISTENER, '3'], stdio: 'pipe' });
      expect(zone.stderr?.toString()).toBe('');
      const [listening, count] = zone.stdout!.toString().trim().split('\n');
      expect(listening).toBe('listening');
      expect(Number(count)).toBe(0);
    } finally {
      clearInterval(trigger);
    }
    expect(await host.count).toBeGreaterThan(0);
  });

  // The network settings (net/*) want CAP_NET_ADMIN over the zone's network
  // namespace as well, which the zone's capability set does not hold yet.
  it("let the zone's root write its own IPC namespace's settings in /proc/sys, never the host's", async () => {
    const script = [
      'echo 1234 > /proc/sys/kernel/shmmni && cat /proc/sys/kernel/shmmni',
      'echo 33 > /proc/sys/fs/mqueue/msg_max && cat /proc/sys/fs/mqueue/msg_max',
      'echo core > /proc/sys/kernel/core_pattern 2>/dev/null || echo refused core_pattern',
      'echo 100 > /proc/sys/fs/file-max 2>/dev/null || echo refused file-max',
      'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo refused drop_caches',
    ].join('; ');
    const hostShmmni = readFileSync('/proc/sys/kernel/shmmni', 'utf8');
    const hostCore = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const r = await runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe' });
    expect(r.stdout?.toString().trim().split('\n')).toEqual([
      '1234', '33', 'refused core_pattern', 'refused file-max', 'refused drop_caches',
    ]);
    expect(readFileSync('/proc/sys/kernel/shmmni', 'utf8')).toBe(hostShmmni);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(hostCore);
  });
});
