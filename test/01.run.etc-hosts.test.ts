// A zone on the host's root resolves its own hostname (issue 21: Python's
// socket tests skipped, sudo warns, `hostname -i` fails when it does not):
// its /etc/hosts is the host's with the zone's name first, read-only; the
// host's file is unchanged; a bind of /etc/hosts the zone is given wins; an
// image's root keeps its own file (a busybox root made here).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runZone, type RunOptions } from '../src/zone/run.js';
import { makeBusyboxRoot, checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

async function sh(script: string, opts: Partial<RunOptions> = {}): Promise<string> {
  const r = await runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe', ...opts });
  return `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
}

const RESOLVE = `python3 -c "import socket; n = socket.gethostname(); print(n, socket.gethostbyname(n), socket.gethostbyaddr('127.0.1.1')[0])"`;

describe("a zone's /etc/hosts", () => {
  it("names the zone first, keeps the host's entries, is read-only, and the host's file is unchanged", async () => {
    const host = readFileSync('/etc/hosts', 'utf8');
    const out = await sh(`${RESOLVE}; cat /etc/hosts; echo x >> /etc/hosts || echo refused`, { hostname: 'zone-a' });
    expect(out).toContain('zone-a 127.0.1.1 zone-a\n');
    expect(out).toContain(`127.0.1.1\tzone-a\n${host}`);
    expect(out).toContain('refused');
    expect(readFileSync('/etc/hosts', 'utf8')).toBe(host);
    // The copy-on-write root too.
    expect(await sh(RESOLVE, { hostname: 'zone-b', rootCow: {} })).toBe('zone-b 127.0.1.1 zone-b\n');
  });

  it("yields to a bind of /etc/hosts, and leaves an image's root alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-hosts-'));
    try {
      writeFileSync(join(dir, 'hosts'), '10.9.8.7 given\n');
      expect(await sh('cat /etc/hosts', { binds: [{ host: join(dir, 'hosts'), zone: '/etc/hosts', readOnly: true }] })).toBe('10.9.8.7 given\n');
      const root = makeBusyboxRoot();
      try {
        writeFileSync(join(root, 'etc', 'hosts'), '127.0.0.1 image-own\n');
        expect(await sh('cat /etc/hosts', { rootfs: root })).toBe('127.0.0.1 image-own\n');
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
