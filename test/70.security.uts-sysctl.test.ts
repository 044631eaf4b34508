// Issue 21.2: /proc/sys/kernel/hostname and domainname are the zone's own to
// write (Linux lets only the host's root write the UTS sysctls; lxzone serves
// the two files in the zone: native/shim/uts_sysctl_server.cc). A write
// changes the names of the writer's UTS namespace only: the zone's, or a
// nested one's; never another zone's or the host's; only the zone's root may.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runZone, startZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

function lines(b: Buffer | undefined): string[] {
  return (b ?? Buffer.alloc(0)).toString().trim().split('\n');
}

async function inZone(script: string, name = 'uts-zone'): Promise<string[]> {
  const r = await runZone({ argv: ['/bin/sh', '-c', script], hostname: name, stdio: 'pipe' });
  expect(r.exitCode, (r.stderr ?? '').toString()).toBe(0);
  return lines(r.stdout);
}

describe('/proc/sys/kernel/hostname and domainname in a zone', () => {
  it("are written by the zone's root and read back by uname, hostname and the files", async () => {
    const host = hostname();
    const out = await inZone(
      'cat /proc/sys/kernel/hostname; echo viaproc > /proc/sys/kernel/hostname; echo written $?; ' +
        'hostname; uname -n; cat /proc/sys/kernel/hostname; ' +
        'printf zonedom > /proc/sys/kernel/domainname; domainname; cat /proc/sys/kernel/domainname; ' +
        // sethostname(2) is seen through the file too.
        'hostname bycall; cat /proc/sys/kernel/hostname; ' +
        // The file is the sysctl's: root's, 0644, a fuse.lxzone mount.
        'stat -c "%U %a" /proc/sys/kernel/hostname; grep -c " /proc/sys/kernel/[a-z]*name .* fuse.lxzone " /proc/self/mountinfo',
    );
    expect(out).toEqual(['uts-zone', 'written 0', 'viaproc', 'viaproc', 'viaproc', 'zonedom', 'zonedom', 'bycall', 'root 644', '2']);
    expect(hostname()).toBe(host);
  });

  it('keep at most 64 bytes of a name, up to a newline, as the kernel does', async () => {
    const long = 'a'.repeat(100);
    const out = await inZone(
      `printf '${long}' > /proc/sys/kernel/hostname && uname -n; ` +
        "printf 'two\\nlines' > /proc/sys/kernel/hostname && hostname; " +
        // Reads at an offset see the rest of "name\n"; past it, nothing.
        'dd if=/proc/sys/kernel/hostname bs=1 skip=1 2>/dev/null; dd if=/proc/sys/kernel/hostname bs=1 skip=10 2>/dev/null | wc -c; ' +
        // sendfile (busybox's cat) reads through the page cache, up to the size stat reports.
        'stat -c %s /proc/sys/kernel/hostname; busybox cat /proc/sys/kernel/hostname',
    );
    expect(out).toEqual(['a'.repeat(64), 'two', 'wo', '0', '4', 'two']);
  });

  it("refuse a zone user's write (EACCES) and let it read", async () => {
    const out = await inZone(
      'setpriv --reuid 65534 --regid 65534 --clear-groups sh -c ' +
        '"cat /proc/sys/kernel/hostname; (echo x > /proc/sys/kernel/hostname) 2>/dev/null || echo refused"; hostname',
    );
    expect(out).toEqual(['uts-zone', 'refused', 'uts-zone']);
  });

  it("answer a nested UTS namespace with its own names, leaving the zone's", async () => {
    const out = await inZone(
      'unshare -u sh -c "echo inner > /proc/sys/kernel/hostname; hostname; cat /proc/sys/kernel/hostname"; ' +
        'hostname; cat /proc/sys/kernel/hostname',
    );
    expect(out).toEqual(['inner', 'inner', 'uts-zone', 'uts-zone']);
  });

  it('change only the writing zone: another zone running meanwhile and the host keep their names', async () => {
    const host = hostname();
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-uts-sysctl-'));
    chmodSync(dir, 0o777); // each zone's root is a host id of its own
    // Waits (at most a minute) for a file the other zone makes.
    const waitFor = (f: string) => `i=0; while [ ! -e /mnt/${f} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; `;
    try {
      const shared = [{ host: dir, zone: '/mnt', readOnly: false }];
      // B says it runs, waits for A's write, then reads its own names.
      const b = startZone({
        argv: ['/bin/sh', '-c', `touch /mnt/b-up; ${waitFor('a-done')}cat /proc/sys/kernel/hostname; uname -n`],
        hostname: 'zone-b',
        binds: shared,
        stdio: 'pipe',
      });
      const a = await runZone({
        argv: ['/bin/sh', '-c', `${waitFor('b-up')}echo zone-a-new > /proc/sys/kernel/hostname; uname -n; touch /mnt/a-done`],
        hostname: 'zone-a',
        binds: shared,
        stdio: 'pipe',
      });
      const rb = await b.wait();
      expect(lines(a.stdout)).toEqual(['zone-a-new']);
      expect(lines(rb.stdout)).toEqual(['zone-b', 'zone-b']);
      expect(hostname()).toBe(host);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are served by a process the keeper makes only once the zone first asks (none for a zone that never does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-uts-lazy-'));
    chmodSync(dir, 0o777);
    // The keeper's children by name (/proc/PID/task/PID/children).
    const keeperChildren = (keeper: number): string[] => {
      let pids: string[] = [];
      try {
        pids = readFileSync(`/proc/${keeper}/task/${keeper}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        return [];
      }
      return pids.map((p) => {
        try {
          return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
        } catch {
          return '';
        }
      });
    };
    const until = async (what: string, ok: () => boolean) => {
      for (let i = 0; i < 1200 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(ok(), what).toBe(true);
    };
    const waitFor = (f: string) => `i=0; while [ ! -e /mnt/${f} ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; `;
    try {
      const z = startZone({
        argv: ['/bin/sh', '-c', `touch /mnt/up; ${waitFor('go')}cat /proc/sys/kernel/hostname > /mnt/name; ${waitFor('end')}`],
        hostname: 'lazy-zone',
        binds: [{ host: dir, zone: '/mnt', readOnly: false }],
        stdio: 'pipe',
      });
      await until('the zone runs', () => existsSync(join(dir, 'up')));
      expect(keeperChildren(z.keeperPid)).not.toContain('lxzone-utsfs');
      writeFileSync(join(dir, 'go'), '');
      await until('the zone read its name', () => existsSync(join(dir, 'name')) && readFileSync(join(dir, 'name'), 'utf8') === 'lazy-zone\n');
      expect(keeperChildren(z.keeperPid)).toContain('lxzone-utsfs');
      writeFileSync(join(dir, 'end'), '');
      expect((await z.wait()).exitCode).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
