// lxzone-runc create/run --preserve-fds N, as go-runc's ExtraFiles use it:
// the caller's fds 3..3+N-1 become the container process's 3..3+N-1 and
// nothing else of the host does; the keeper lets go of its copies (a pipe's
// reader sees end-of-file when the container closes its end); an fd that the
// caller did not pass is refused before anything is built.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { alive, useOciHarness, waitFor } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';

describeUnless(rootOnly(), 'lxzone-runc --preserve-fds', () => {
  const h = useOciHarness('lxz85pfd', {
    after: async () => {
      for (const id of ['pf-run', 'pf-pipe', 'pf-none', 'pf-bad']) await h.runc(['delete', '--force', id]);
    },
  });

  it('run --preserve-fds 2: the files the caller passed are fds 3 and 4 in the container, nothing more', async () => {
    const a = join(h.work, 'a.txt');
    const b = join(h.work, 'b.txt');
    const fa = openSync(a, 'w');
    const fb = openSync(b, 'w');
    const bundle = h.bundle('pf-run', (c) => {
      c.process.args = ['/bin/sh', '-c', 'echo to-three >&3; echo to-four >&4; for i in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do [ -e /proc/$$/fd/$i ] && echo " fd $i"; done; true'];
    });
    let r;
    try {
      r = await h.runc(['run', '--bundle', bundle, '--preserve-fds', '2', 'pf-run'], { extraFds: [fa, fb] });
    } finally {
      closeSync(fa);
      closeSync(fb);
    }
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readFileSync(a, 'utf8')).toBe('to-three\n');
    expect(readFileSync(b, 'utf8')).toBe('to-four\n');
    // The shell's fds: its stdio and the two passed.
    const fds = [...r.stdout.matchAll(/ fd (\d+)/g)].map((m) => Number(m[1])).sort((x, y) => x - y);
    expect(fds).toEqual([0, 1, 2, 3, 4]);
  });

  it('without --preserve-fds an fd the caller holds open does not reach the container', async () => {
    const a = join(h.work, 'none.txt');
    const fa = openSync(a, 'w');
    const bundle = h.bundle('pf-none', (c) => {
      c.process.args = ['/bin/sh', '-c', 'echo leaked >&3 && echo wrote'];
    });
    let r;
    try {
      r = await h.runc(['run', '--bundle', bundle, 'pf-none'], { extraFds: [fa] });
    } finally {
      closeSync(fa);
    }
    expect(r.stdout).not.toContain('wrote');
    expect(r.code).not.toBe(0);
    expect(readFileSync(a, 'utf8')).toBe('');
  });

  it('create --preserve-fds 1 with a pipe: the keeper keeps no copy, the reader sees end-of-file when the container closes it', async () => {
    const fifo = join(h.work, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writer = openSync(fifo, constants.O_WRONLY);
    const bundle = h.bundle('pf-pipe', (c) => {
      c.process.args = ['/bin/sh', '-c', 'echo through-the-pipe >&3; exec 3>&-; exec sleep 60'];
    });
    try {
      const created = await h.runc(['create', '--bundle', bundle, '--preserve-fds', '1', 'pf-pipe'], { extraFds: [writer], out: join(h.work, 'pf-pipe.out') });
      closeSync(writer);
      expect(created.code).toBe(0);
      expect((await h.runc(['start', 'pf-pipe'])).code).toBe(0);
      let got = '';
      let eof = false;
      const buf = Buffer.alloc(256);
      await waitFor('the pipe to reach end-of-file', () => {
        try {
          const n = readSync(reader, buf, 0, buf.length, null);
          if (n === 0) eof = true;
          else got += buf.subarray(0, n).toString();
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        }
        return eof;
      });
      expect(got).toBe('through-the-pipe\n');
      // End-of-file came while the container still runs: it was no keeper's copy that ended it.
      const st = JSON.parse((await h.runc(['state', 'pf-pipe'])).stdout);
      expect(st.status).toBe('running');
      expect(alive(st.pid)).toBe(true);
    } finally {
      closeSync(reader);
    }
    expect((await h.runc(['delete', '--force', 'pf-pipe'])).code).toBe(0);
  });

  it('an fd that was not passed is refused before anything is built', async () => {
    const bundle = h.bundle('pf-bad', (c) => {
      c.process.args = ['/bin/true'];
    });
    // Nothing at fds 3..: Node's own fds there are close-on-exec and not the caller's.
    const r = await h.runc(['create', '--bundle', bundle, '--preserve-fds', '3', 'pf-bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--preserve-fds 3: fd \d+ (is not open|was not passed to lxzone-runc)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(h.stateDir).filter((d) => d === 'pf-bad')).toEqual([]);
  });
});
