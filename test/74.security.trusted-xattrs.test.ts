// trusted.* extended attributes (issue 21 part 6, decided): they stay the
// host administrator's. The zone's root sets user.* attributes and file
// capabilities on its own files as natively, but setting or removing a
// trusted.* attribute answers EPERM (Linux wants CAP_SYS_ADMIN of the host's
// user namespace; lxzone does not translate the name, docs/syscalls.md), and
// a trusted.* attribute the host set on a file the zone can see is neither
// readable (ENODATA) nor listed there.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

let dir = '';
beforeAll(() => {
  // A host file carrying a trusted.* attribute set by host root, bound into
  // the zone read-write: the zone may write the file, not the host's trust.
  dir = mkdtempSync(join(tmpdir(), 'lxzone-xattr-'));
  writeFileSync(join(dir, 'host.txt'), 'host\n');
  // Open to everyone (the zone's root is no one on the host): what stops the
  // zone is the attribute's namespace, not the file's mode.
  chmodSync(dir, 0o777);
  chmodSync(join(dir, 'host.txt'), 0o666);
  const py = `import os; os.setxattr(${JSON.stringify(join(dir, 'host.txt'))}, 'trusted.lxzone-test', b'host-secret')`;
  asHostRoot(py);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function asHostRoot(py: string): void {
  // As host root, outside any zone.
  execFileSync('/usr/bin/python3', ['-c', py], { stdio: 'pipe' });
}

const PY = `import errno, os
def tryx(label, f):
    try:
        r = f()
        print(label, 'ok' if r is None else r)
    except OSError as e:
        print(label, errno.errorcode.get(e.errno, e.errno))
open('/tmp/own.txt', 'w').write('own\\n')
tryx('user-set', lambda: os.setxattr('/tmp/own.txt', 'user.k', b'v'))
tryx('user-get', lambda: os.getxattr('/tmp/own.txt', 'user.k'))
tryx('trusted-set', lambda: os.setxattr('/tmp/own.txt', 'trusted.k', b'v'))
tryx('trusted-set-host-file', lambda: os.setxattr('/tmp/hostdir/host.txt', 'trusted.lxzone-test', b'zone'))
tryx('trusted-remove-host-file', lambda: os.removexattr('/tmp/hostdir/host.txt', 'trusted.lxzone-test'))
tryx('trusted-get-host-file', lambda: os.getxattr('/tmp/hostdir/host.txt', 'trusted.lxzone-test'))
print('listed', [n for n in os.listxattr('/tmp/hostdir/host.txt') if n.startswith('trusted.')])
`;

it("the zone's root sets user.* attributes but no trusted.* one, and sees none of the host's", async () => {
  const r = await runZone({
    argv: ['/usr/bin/python3', '-c', PY],
    stdio: 'pipe',
    binds: [{ host: dir, zone: '/tmp/hostdir', readOnly: false }],
  });
  const text = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
  expect(r.exitCode, text).toBe(0);
  expect(text).toContain('user-set ok');
  expect(text).toContain("user-get b'v'");
  expect(text).toContain('trusted-set EPERM');
  expect(text).toContain('trusted-set-host-file EPERM');
  expect(text).toContain('trusted-remove-host-file EPERM');
  expect(text).toContain('trusted-get-host-file ENODATA');
  expect(text).toContain('listed []');
  // The host's attribute is unchanged.
  const value = execFileSync('/usr/bin/python3', ['-c', `import os; print(os.getxattr(${JSON.stringify(join(dir, 'host.txt'))}, 'trusted.lxzone-test').decode())`]);
  expect(value.toString().trim()).toBe('host-secret');
});
