// What `lxzone pull` shows while it works: one bar per layer on a terminal
// (cli-progress, on stderr), one plain line per layer step otherwise, JSON
// lines (on stdout) with --json, nothing with --quiet.
import cliProgress from 'cli-progress';
import type { PullEvent } from '../zone/image/registry/pull.js';

export type ProgressMode = 'bars' | 'lines' | 'json' | 'quiet';

export function progressMode(f: { json?: boolean; quiet?: boolean }): ProgressMode {
  if (f.quiet) return 'quiet';
  if (f.json) return 'json';
  return process.stderr.isTTY ? 'bars' : 'lines';
}

const short = (d: string) => d.slice(7, 19);

export class PullProgress {
  private multi?: cliProgress.MultiBar;
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly last = new Map<string, string>();
  private readonly lastJson = new Map<string, number>();

  constructor(private readonly mode: ProgressMode) {
    if (mode === 'bars') {
      this.multi = new cliProgress.MultiBar(
        { format: '{layer} {bar} {percentage}% {status}', stream: process.stderr, hideCursor: true, clearOnComplete: false, barsize: 30 },
        cliProgress.Presets.shades_classic,
      );
    }
  }

  event = (e: PullEvent): void => {
    if (this.mode === 'quiet') return;
    if (this.mode === 'json') {
      if (e.type === 'layer' && e.status === 'downloading') {
        // One line per whole percent at most: a line per chunk would be the pull's size in text.
        const pct = e.total > 0 ? Math.floor((100 * e.done) / e.total) : 100;
        if (this.lastJson.get(e.digest) === pct) return;
        this.lastJson.set(e.digest, pct);
      }
      process.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    if (e.type === 'warning') {
      this.log(`warning: ${e.message}`);
      return;
    }
    if (e.type === 'resolved') {
      this.log(`${e.ref}: ${e.digest} (${e.layers.length} layer${e.layers.length === 1 ? '' : 's'})`);
      return;
    }
    if (e.type === 'done') return;
    if (this.multi) {
      let bar = this.bars.get(e.digest);
      if (!bar) {
        bar = this.multi.create(Math.max(1, e.total), 0, { layer: short(e.digest), status: e.status });
        this.bars.set(e.digest, bar);
      }
      bar.update(e.status === 'downloading' ? e.done : e.status === 'waiting' ? 0 : Math.max(1, e.total), { status: e.status });
      return;
    }
    if (this.last.get(e.digest) === e.status) return; // plain lines: one per step, not per chunk
    this.last.set(e.digest, e.status);
    process.stderr.write(`${short(e.digest)}: ${e.status}${e.status === 'downloaded' || e.status === 'exists' ? ` (${e.total} bytes)` : ''}\n`);
  };

  private log(line: string): void {
    if (this.multi) this.multi.log(`${line}\n`);
    else process.stderr.write(`${line}\n`);
  }

  stop(): void {
    this.multi?.stop();
  }
}
