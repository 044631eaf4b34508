// Errors reaching the user (issue 13): one line naming what was wrong, the
// documented exit code (src/errors.ts EXIT; README "Exit status"), never a
// stack trace, nothing left on the host. And native failures arrive as
// lxzone's own error class, with errno, code and the failed call.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, LxzoneError } from '../src/errors.js';
import { native } from '../src/native.js';
import { runNodeAsNobody } from './support/nobody.js';
import { expectNothingLeft, hostSnapshot, repoRoot, runCli, type HostSnapshot } from './support/zones.js';

/** A message for people: one line, "lxzone: ...", no stack frame. */
function expectOneLine(stderr: string, names: RegExp): void {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('lxzone: warning:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^lxzone: /);
  expect(lines[0]).toMatch(names);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain('internal error');
}

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

describe('lxzone run: lxzone\'s failures are not the program\'s exit 1', () => {
  it('-u with a user the zone does not have is a usage error (2)', async () => {
    const r = await runCli(['run', '-u', 'nosuchuser', '--', '/bin/true']);
    expectOneLine(r.stderr, /user "nosuchuser" not found in the zone's \/etc\/passwd/);
    expect(r.code).toBe(EXIT.usage);
  });

  it('--pids-limit 0 names the flag and its range (2)', async () => {
    const r = await runCli(['run', '--pids-limit', '0', '--', '/bin/true']);
    expectOneLine(r.stderr, /option --pids-limit "0": must be an integer in 1\.\.4194304/);
    expect(r.code).toBe(EXIT.usage);
  });

  it('--cpu-shares out of range names the flag (2), on create too', async () => {
    const r = await runCli(['run', '--cpu-shares', '1', '--', '/bin/true']);
    expectOneLine(r.stderr, /option --cpu-shares "1": must be an integer in 2\.\.262144/);
    expect(r.code).toBe(EXIT.usage);
    const c = await runCli(['create', 'never-made', '--pids-limit', '0']);
    expectOneLine(c.stderr, /option --pids-limit "0"/);
    expect(c.code).toBe(EXIT.usage);
  });

  it('a --trace-output that cannot be written is said before a zone starts (2)', async () => {
    const r = await runCli(['run', '--trace', '--trace-output', '/nonexistent-dir/trace', '--', '/bin/true']);
    expectOneLine(r.stderr, /--trace-output \/nonexistent-dir\/trace: ENOENT: no such file or directory/);
    expect(r.code).toBe(EXIT.usage);
  });

  it('rootless run -m says that caps need root, without a stack trace (125)', async () => {
    const r = await runNodeAsNobody((root) => [join(root, 'test/support/cli-entry.ts'), 'run', '-m', '64m', '--', '/bin/true'], {
      cwd: '/tmp',
      env: { PATH: process.env.PATH, HOME: '/tmp' },
    });
    expectOneLine(r.stderr, /resource caps .* need root on this host/);
    expect(r.code).toBe(EXIT.zoneFailure);
  });
});

describe('lxzone syscalls --json | head', () => {
  it('stops quietly when the reader closes the pipe (no EPIPE)', async () => {
    // A real pipe (a child's stdio 'pipe' is a socket, whose buffer holds the whole report).
    const cli = [process.execPath, '--import', 'tsx', join(repoRoot, 'test/support/cli-entry.ts')].map((a) => `'${a}'`).join(' ');
    const child = spawn('bash', ['-c', `${cli} syscalls --json | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise((resolve) => child.on('exit', resolve));
    expect(stderr).toBe('');
    expect(stdout.trim()).toBe('0');
  });
});

describe('native errors', () => {
  it('arrive as LxzoneError with errno, code and syscall', () => {
    let caught: unknown;
    try {
      native().connectKeeper('/nonexistent-dir/keeper.sock');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(LxzoneError);
    const e = caught as LxzoneError;
    expect(e).toMatchObject({ errno: 2, code: 'ENOENT', syscall: 'connect' });
    expect(e.message).toBe('connect /nonexistent-dir/keeper.sock: No such file or directory');
  });

  it('a bad dispatch table is refused as EINVAL from attach', () => {
    const [ours, theirs] = native().socketPair();
    const sup = new (native().Supervisor)(() => {});
    try {
      expect(() => sup.attach(ours, { dispatch: Buffer.from('garbage'), hostname: 'x' })).toThrow(
        expect.objectContaining({ name: 'LxzoneError', code: 'EINVAL', syscall: 'attach' }),
      );
    } finally {
      sup.close();
      native().closeFd(ours);
      native().closeFd(theirs);
    }
  });
});
