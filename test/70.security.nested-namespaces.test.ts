// Issue 21.3: a zone may nest namespaces and mount inside them (bubblewrap,
// unshare, overlay), and nothing nested reaches what the zone could not.
// Every attack below runs from inside a real zone, through a nested user
// namespace (where the attacker is root with every capability).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

async function inZone(script: string): Promise<string[]> {
  const r = await runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe' });
  return (r.stdout ?? Buffer.alloc(0)).toString().trim().split('\n');
}

// A script the zone writes to its /tmp and runs in a nested namespace;
// `try NAME CMD...` prints "NAME ok" or "NAME refused".
function nested(file: string, body: string): string {
  return `cat > /tmp/${file} <<'END'
try() { n=$1; shift; if "$@" >/dev/null 2>&1; then echo "$n ok"; else echo "$n refused"; fi; }
${body}
END
`;
}

describe('nested namespaces in a zone', () => {
  it('run bubblewrap, unshare --mount-proc, and mounts of tmpfs, proc, sysfs and overlay', async () => {
    const out = await inZone(
      nested('a.sh', "try bwrap bwrap --ro-bind / / --unshare-all --proc /proc --dev /dev --tmpfs /tmp sh -c 'test $$ -lt 10 && touch /tmp/x'") +
        nested('b.sh', 'echo pid $$; ps -e --no-headers | wc -l') +
        nested('c.sh', [
          'try tmpfs mount -t tmpfs t /mnt',
          'try overlay mount -t overlay o -o lowerdir=/tmp/l,upperdir=/tmp/u,workdir=/tmp/w /tmp/m',
          'cat /tmp/m/f; echo upper > /tmp/m/g',
          'try bind mount --bind /tmp/l /mnt',
        ].join('\n')) +
        nested('d.sh', 'try sysfs mount -t sysfs -o ro s /mnt; ls /mnt/class/net') +
        'sh /tmp/a.sh; unshare -rmpf --mount-proc sh /tmp/b.sh;' +
        'mkdir -p /tmp/l /tmp/u /tmp/w /tmp/m; echo lower > /tmp/l/f; unshare -rm sh /tmp/c.sh; cat /tmp/u/g;' +
        'unshare -rmn sh /tmp/d.sh',
    );
    // ps in a pid namespace of its own sees the shell, itself and wc.
    expect(out).toEqual(['bwrap ok', 'pid 1', '3', 'tmpfs ok', 'overlay ok', 'lower', 'bind ok', 'upper', 'sysfs ok', 'lo']);
  });

  it("never reach the host through them: masks, read-only mounts, host knobs, the zone's own namespaces", async () => {
    const core = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
    const out = await inZone(
      // A nested user and mount namespace: the attacker is root with every capability.
      nested('a.sh', [
        'try unmask-kcore umount -l /proc/kcore', 'try unmask-acpi umount -l /proc/acpi',
        'try root-rw mount -o remount,rw /', 'try proc-sys-rw mount -o remount,rw /proc/sys/vm',
        'try sys-rw mount -o remount,rw /sys', 'try sysfs-rw unshare -n mount -t sysfs s /mnt',
        'try ext4 mount -t ext4 /dev/null /mnt', 'try setns-init nsenter -t 1 -n true',
      ].join('\n')) +
        // A nested pid namespace with a fresh proc: the host's knobs are still not the zone's.
        nested('b.sh', [
          "try core-pattern sh -c 'echo x > /proc/sys/kernel/core_pattern'",
          "try sysrq sh -c 'echo h > /proc/sysrq-trigger'", 'try kcore head -c1 /proc/kcore',
          "try hostname-global sh -c 'echo x > /proc/sys/kernel/hostname'",
        ].join('\n')) +
        'unshare -rm sh /tmp/a.sh; unshare -rmpf --mount-proc sh /tmp/b.sh',
    );
    expect(out).toEqual([
      'unmask-kcore refused', 'unmask-acpi refused', 'root-rw refused', 'proc-sys-rw refused', 'sys-rw refused',
      'sysfs-rw refused', 'ext4 refused', 'setns-init refused',
      'core-pattern refused', 'sysrq refused', 'kcore refused', 'hostname-global refused',
    ]);
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(core);
  });

  it("let the zone's root change its own names, never the host's", async () => {
    // /proc/sys/kernel/hostname reads the zone's name and takes the zone's
    // root's writes (lxzone serves it: test/70.security.uts-sysctl).
    const out = await inZone(
      'hostname other && hostname && uname -n && domainname zonedom && domainname; ' +
        'cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname; ' +
        '(echo viaproc > /proc/sys/kernel/hostname) 2>/dev/null || echo proc-refused; hostname',
    );
    expect(out).toEqual(['other', 'other', 'zonedom', 'other', 'zonedom', 'viaproc']);
    expect(hostname()).not.toBe('other');
  });
});
