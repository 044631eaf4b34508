// linux.seccomp of a bundle (runtime-spec config-linux.md "Seccomp"): imported
// through the Docker/OCI importer and combined with lxzone's own profile in
// the zone's one filter, the stricter decision winning per call. Real zones:
// the bundle's refusals reach the container with its errno, lxzone's own
// translations and refusals stay, and what cannot be honoured is refused.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';


describeUnless(rootOnly(), 'lxzone-runc linux.seccomp', () => {
  const h = useOciHarness('lxz85sc');

  it('runc\'s default config (its own seccomp profile) runs', async () => {
    const b = h.bundle('dflt', (c) => {
      c.process.args = ['/bin/sh', '-c', 'grep Seccomp: /proc/self/status; echo ok'];
    });
    const r = await h.runc(['run', '--bundle', b, 'd1']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/Seccomp:\s+2\nok\n/);
    expect(r.code).toBe(0);
  });

  it('the bundle\'s refusals reach the container with its errno; lxzone\'s translations stay', async () => {
    const b = h.bundle('deny', (c) => {
      c.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        syscalls: [
          { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
          // sethostname only with a name of length 4 (arguments are compared).
          { names: ['sethostname'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 4, op: 'SCMP_CMP_NE' }] },
        ],
      };
      // sethostname wants CAP_SYS_ADMIN (of the zone's user namespace), which runc's default set lacks.
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_ADMIN');
      c.process.args = ['/bin/sh', '-c', [
        'mkdir /tmp/x; echo mkdir=$?',
        'hostname abcd; echo short=$?; hostname',
        'hostname abcdef; echo long=$?',
        // syslog(2) is lxzone's (the zone's own log): with the bundle allowing it the host's is still not read.
        'dmesg >/dev/null; echo dmesg=$?',
      ].join('; ')];
    });
    const r = await h.runc(['run', '--bundle', b, 's1']);
    expect(r.stdout).toContain('mkdir=1');
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/x': (Operation )?not supported/i);
    expect(r.stdout).toMatch(/short=0\nabcd\n/);
    expect(r.stdout).toContain('long=1');
    expect(r.stderr).toMatch(/hostname: sethostname: Permission denied/);
    expect(r.stdout).toContain('dmesg=0');
    expect(r.code).toBe(0);
  });

  it('refuses what it cannot honour, naming the field, leaving nothing behind', async () => {
    const cases: [string, (c: any) => void, RegExp][] = [
      ['agent', (c) => (c.linux.seccomp.listenerPath = '/run/agent.sock'), /linux\.seccomp\.listenerPath: a seccomp agent is not supported/],
      ['flag', (c) => (c.linux.seccomp.flags = ['SECCOMP_FILTER_FLAG_NOPE']), /linux\.seccomp\.flags\[0\]: SECCOMP_FILTER_FLAG_NOPE is not a seccomp filter flag/],
      ['action', (c) => (c.linux.seccomp.syscalls = [{ names: ['read'], action: 'SCMP_ACT_MAYBE' }]), /unknown action "SCMP_ACT_MAYBE"/],
      ['op', (c) => (c.linux.seccomp.syscalls = [{ names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_SOMETIMES' }] }]), /unknown operator "SCMP_CMP_SOMETIMES"/],
    ];
    for (const [id, edit, msg] of cases) {
      const r = await h.runc(['create', '--bundle', h.bundle(id, (c) => { c.linux.seccomp ??= { defaultAction: 'SCMP_ACT_ALLOW' }; edit(c); }), id]);
      expect(r.stderr, id).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code, id).toBe(1);
      expect(existsSync(join(h.stateDir, id)), id).toBe(false);
    }
  });
});
