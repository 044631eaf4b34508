// docker attach and the attached half of `docker run -i/-it`: the
// container's output from now on (followed in its log: the keeper writes it
// there, the daemon only reads), and what the client sends into the first
// process's input (the zone's input channel, src/zone/lifecycle/zone-input.ts).
// docker run attaches before it starts the container, so input sent before
// the zone runs waits for it. The detach keys (default ctrl-p ctrl-q) end
// the attach and leave the container running.
import { readLogs, type LogStream } from '../../zone/lifecycle/logs.js';
import type { ZoneInput } from '../../zone/lifecycle/zone-input.js';
import type { DockerBackend } from './backend.js';
import type { ContainerMeta } from './container-store.js';
import { badRequest, conflict } from './errors.js';
import type { Route } from './router.js';
import { frame } from './streams.js';

const DEFAULT_DETACH = [0x10, 0x11]; // ctrl-p ctrl-q

/** Docker's --detach-keys: "ctrl-p,ctrl-q", "ctrl-a,x"; empty: the default. */
export function detachKeys(spec: string | null): number[] {
  if (!spec) return DEFAULT_DETACH;
  const out: number[] = [];
  for (const k of spec.split(',')) {
    const key = k.trim().toLowerCase();
    const ctrl = /^ctrl-([a-z@[\\\]^_])$/.exec(key);
    if (ctrl) out.push(ctrl[1]!.charCodeAt(0) & 0x1f);
    else if (key.length === 1) out.push(key.charCodeAt(0));
    else throw badRequest(`Invalid detach keys (${spec}) provided`);
  }
  return out;
}

/** Finds the detach sequence across chunks: `feed` answers the bytes to pass on and whether the sequence was typed. */
export class DetachScanner {
  private matched = 0;
  constructor(private readonly seq: number[]) {}

  feed(c: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const byte of c) {
      if (byte === this.seq[this.matched]) {
        this.matched++;
        if (this.matched === this.seq.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      // Not the sequence after all: what was held back goes on.
      out.push(...this.seq.slice(0, this.matched));
      this.matched = 0;
      if (byte === this.seq[0]) this.matched = 1;
      else out.push(byte);
    }
    return { pass: Buffer.from(out), detach: false };
  }
}

const tty = (m: ContainerMeta) => m.Config.Tty === true;

export function attachRoutes(b: DockerBackend): Route[] {
  const { manager, containers } = b;
  const running = (name: string) => manager.runningNames().includes(name);

  /** The zone's input once it runs (docker run attaches first, then starts). */
  const inputOf = async (m: ContainerMeta, closed: () => boolean): Promise<ZoneInput | undefined> => {
    const since = Date.now();
    for (;;) {
      const i = manager.input(m.zone);
      if (i) return i;
      if (closed() || Date.now() - since > 60_000) return undefined;
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return [
    {
      method: 'POST',
      path: '/containers/:id/attach',
      doc: 'attach: the container\'s output from now on (multiplexed, raw with -t) and, with stdin, the first process\'s input (docker run -i/-it, docker attach); detach keys (default ctrl-p ctrl-q); no logs=1 replay',
      handler: async (ctx) => {
        const m = containers.get(ctx.params.id ?? '');
        const withStdin = ctx.flag('stdin');
        if (withStdin && m.Config.OpenStdin !== true) throw badRequest('the container was not created with stdin open (docker run -i)');
        const keys = detachKeys(ctx.query.get('detachKeys'));
        const raw = tty(m);
        const stream = ctx.hijack(raw ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
        const ac = new AbortController();
        void stream.closed.then(() => ac.abort());
        if (withStdin && stream.input) {
          const input = stream.input;
          const scanner = new DetachScanner(keys);
          const pending: Buffer[] = [];
          let target: ZoneInput | undefined;
          let ended = false;
          const flush = () => {
            if (!target) return;
            for (const c of pending.splice(0)) target.write(c);
            // The client's stdin ended: with StdinOnce (docker run -i) the process reads end of file.
            if (ended && m.Config.StdinOnce === true) target.end();
          };
          if (ctx.upgrade?.head.length) pending.push(ctx.upgrade.head);
          input.on('data', (c: Buffer) => {
            const { pass, detach } = scanner.feed(c);
            if (pass.length) pending.push(pass);
            flush();
            if (detach) {
              // Leaves the container running; the client sees the stream end.
              input.removeAllListeners('data');
              ac.abort();
            }
          });
          input.once('end', () => {
            ended = true;
            flush();
          });
          void inputOf(m, () => ac.signal.aborted).then((i) => {
            target = i;
            flush();
          });
        }
        // docker run attaches before it starts the container: follow until it has run and stopped.
        const since = Date.now();
        let seen = running(m.zone);
        // A run shorter than a poll is seen by its exit, recorded after the attach began.
        const endedSince = () => Date.parse(manager.lastExit.get(m.zone)?.at ?? '') >= since;
        const alive = () => {
          if (running(m.zone) || endedSince()) seen = true;
          return running(m.zone) || (!seen && Date.now() - since < 60_000);
        };
        const neither = !ctx.query.has('stdout') && !ctx.query.has('stderr');
        const want = { stdout: ctx.flag('stdout', neither), stderr: ctx.flag('stderr', neither) };
        const out = (s: LogStream) => (c: Buffer) => want[s] && stream.write(raw ? c : frame(s, c));
        if (ctx.flag('stream', true)) {
          await readLogs(b.opts.store, m.zone, { stdout: out('stdout'), stderr: out('stderr') }, { tail: 0, follow: true, running: alive, signal: ac.signal, pollMs: 100 });
        }
        stream.end();
        return undefined;
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/resize',
      doc: 'resize: the terminal of a container made with -t (h, w)',
      handler: (ctx) => {
        const m = containers.get(ctx.params.id ?? '');
        const rows = ctx.int('h') ?? 0;
        const cols = ctx.int('w') ?? 0;
        if (rows <= 0 || cols <= 0 || rows > 1000 || cols > 1000) throw badRequest(`invalid size: h=${rows} w=${cols}`);
        if (!tty(m)) throw conflict(`Container ${m.Id} has no terminal (created without -t)`);
        if (!running(m.zone)) throw conflict(`Container ${m.Id} is not running`);
        manager.input(m.zone)?.resize(cols, rows);
        return { status: 200, body: undefined };
      },
    },
  ];
}
