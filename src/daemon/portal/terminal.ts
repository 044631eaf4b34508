// The portal's terminal: `lxzone exec -t NAME -- /bin/sh` over a websocket.
// The exec goes through the same API as the CLI (startExecZone); its keeper
// gets the slave of a host pty as stdin/stdout/stderr, exactly as it gets
// the operator's terminal from `lxzone exec -t`: it sets it raw, relays it
// to the zone's own pty and copies its window size on SIGWINCH. The browser
// side (xterm.js) sends keystrokes and sizes; Ctrl-C is a byte the zone's
// terminal turns into SIGINT.
import { write as fsWrite } from 'node:fs';
import { ReadStream } from 'node:tty';
import type { WebSocket } from 'ws';
import { native } from '../../native.js';
import { startExecZone, type ApiOptions } from '../../zone/lifecycle/api.js';
import type { RunningZone } from '../../zone/run.js';

const clampSize = (n: unknown, max: number, dflt: number): number =>
  typeof n === 'number' && Number.isInteger(n) && n > 0 ? Math.min(n, max) : dflt;

export async function serveTerminal(ws: WebSocket, name: string, size: { cols?: number; rows?: number }, api: ApiOptions, log: (l: string) => void): Promise<void> {
  const cols = clampSize(size.cols, 1000, 80);
  const rows = clampSize(size.rows, 500, 24);
  const [master, slave] = native().openPty(cols, rows);
  // Keys typed while the exec starts wait here: the page sends as soon as the
  // websocket opens, before the zone's shell runs.
  const early: string[] = [];
  let handle: ((text: string) => void) | undefined;
  let closed = false;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    if (handle) handle(String(data));
    else if (early.length < 1000) early.push(String(data));
  });
  ws.on('close', () => (closed = true));
  let zone: RunningZone;
  try {
    zone = await startExecZone(
      name,
      { argv: ['/bin/sh'], tty: true, stdio: 'fds', stdioFds: [slave, slave, slave], env: { TERM: 'xterm-256color' } },
      { ...api, start: false },
    );
  } catch (e) {
    native().closeFd(master);
    ws.send(JSON.stringify({ type: 'error', message: (e as Error).message }));
    ws.close(1011, 'exec failed');
    return;
  } finally {
    // The keeper holds its copies; the master sees EIO once they are all closed.
    native().closeFd(slave);
  }
  log(`portal: terminal into ${name} (keeper ${zone.keeperPid})`);
  const out = new ReadStream(master);
  out.on('data', (b: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(b, { binary: true });
  });
  out.on('error', () => undefined); // EIO: the last slave closed, the exec ended
  // One write at a time: concurrent fs.write calls run on the thread pool
  // and may land out of order ("for f in" arrived as "for  fin").
  let writes = Promise.resolve();
  handle = (text) => {
    let m: { type?: string; data?: unknown; cols?: unknown; rows?: unknown };
    try {
      m = JSON.parse(text);
    } catch {
      return;
    }
    if (m.type === 'input' && typeof m.data === 'string') {
      const chunk = Buffer.from(m.data, 'utf8');
      writes = writes.then(() => new Promise<void>((done) => fsWrite(master, chunk, () => done())));
    } else if (m.type === 'resize') {
      try {
        native().setWindowSize(master, clampSize(m.cols, 1000, cols), clampSize(m.rows, 500, rows));
        // The keeper copies the size from its stdin (our slave) into the zone's terminal.
        process.kill(zone.keeperPid, 'SIGWINCH');
      } catch {
        // The exec ended meanwhile: nothing to resize.
      }
    }
  };
  for (const t of early.splice(0)) handle(t);
  if (closed) zone.kill('SIGHUP');
  ws.on('close', () => zone.kill('SIGHUP'));
  const result = await zone.wait().catch((e: Error) => ({ exitCode: 125, error: e.message }));
  // Let the last output through before saying it ended.
  await new Promise((r) => setTimeout(r, 100));
  out.destroy();
  if (ws.readyState === ws.OPEN) {
    ws.send(JSON.stringify({ type: 'exit', code: result.exitCode }));
    ws.close(1000, 'exited');
  }
}
