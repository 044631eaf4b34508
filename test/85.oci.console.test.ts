// --console-socket as containerd's shim uses it: lxzone-runc sends the
// terminal's master over the socket (SCM_RIGHTS); the container's process
// has a terminal on stdin and stdout, what is typed into the master reaches
// it and its output comes back. The receiving end is a small Python program
// (Node cannot receive an fd).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useOciHarness } from './support/oci.js';
import { repoRoot } from './support/zones.js';
import { describeUnless, rootOnly } from './support/skip.js';


/** Starts the receiver; resolves its output once it ends. */
async function receiver(sock: string, prompt: string, typed: string, until: string): Promise<{ output: Promise<string> }> {
  const p = spawn('python3', [join(repoRoot, 'test', 'support', 'console-receiver.py'), sock, prompt, typed, until], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await new Promise<void>((ready, fail) => {
    p.stderr.on('data', (d) => String(d).includes('ready') && ready());
    p.on('exit', (code) => fail(new Error(`console receiver ended (${code})`)));
  });
  // Wrapped: an async function returning a promise would wait for it.
  return { output: new Promise((done) => p.on('close', () => done(out))) };
}

describeUnless(rootOnly(), 'lxzone-runc --console-socket', () => {
  const h = useOciHarness('lxz85con');

  it('create sends the terminal master; what is typed into it reaches the container, its output comes back', async () => {
    const b = h.bundle('tty', (c) => {
      c.process.terminal = true;
      c.process.args = ['/bin/sh', '-c', 'test -t 0 && test -t 1 && echo stdin-and-stdout-are-a-tty; read line; echo "got:$line"; sleep 1'];
    });
    const sock = join(h.work, 'console.sock');
    const { output } = await receiver(sock, 'are-a-tty', 'hello-console\n', 'got:hello');
    const created = await h.runc(['create', '--bundle', b, '--console-socket', sock, 't1']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect((await h.runc(['start', 't1'])).code).toBe(0);
    const text = await output;
    expect(text).toMatch(/^lxzone-console\n/);
    expect(text).toContain('stdin-and-stdout-are-a-tty');
    expect(text).toContain('got:hello-console');
    expect((await h.runc(['delete', '--force', 't1'])).code).toBe(0);
  });

  it('refuses a console socket without a terminal, and a detached terminal without one', async () => {
    const noTty = await h.runc(['create', '--bundle', h.bundle('nt', () => {}), '--console-socket', join(h.work, 'x.sock'), 't2']);
    expect(noTty.stderr).toMatch(/--console-socket is for a container with process\.terminal: true/);
    expect(noTty.code).toBe(1);
    const noSock = await h.runc(['create', '--bundle', h.bundle('ns', (c) => (c.process.terminal = true)), 't3']);
    expect(noSock.stderr).toMatch(/process\.terminal needs --console-socket/);
    expect(noSock.code).toBe(1);
  });
});
