// `logs -f` against the keeper's rotation protocol (native/shim/log_file.cc:
// <file>.gen counts rotations, "N r" while one is under way), driven by
// writing the files the way the keeper does, so that the reader's hard case
// is reached every time: it falls two rotations behind while the file it was
// reading ended in the middle of a line.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logFiles, readLogs } from '../src/zone/lifecycle/logs.js';
import { ZoneStore } from '../src/zone/state/store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function zoneLogDir(): { store: ZoneStore; files: ReturnType<typeof logFiles> } {
  const base = mkdtempSync('/tmp/lxz80-logs-');
  dirs.push(base);
  const store = new ZoneStore({ stateDir: join(base, 'state'), runtimeDir: join(base, 'run') });
  mkdirSync(store.paths('z').logDir, { recursive: true });
  const files = logFiles(store, 'z');
  writeFileSync(files.stderr, '');
  return { store, files };
}

/**
 * One rotation as the keeper does it: mark, rename to .1, begin a new file,
 * count; `flags` as the keeper writes them after the count ("m": .1 begins
 * mid-line, "c": the new file does).
 */
function rotate(file: string, n: number, next: string, flags = ''): void {
  writeFileSync(`${file}.gen`, `${n} r`);
  renameSync(file, `${file}.1`);
  writeFileSync(file, next);
  writeFileSync(`${file}.gen`, flags ? `${n + 1} ${flags}` : String(n + 1));
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `logs -f` of zone z's stdout from now on: what it printed so far, and an end (as when the zone stops). */
function follow(store: ZoneStore): { printed: () => string; stop: () => Promise<void> } {
  let printed = '';
  let running = true;
  const done = readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} }, { follow: true, running: () => running, pollMs: 30 });
  return {
    printed: () => printed,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

describe('logs -f', () => {
  it('never joins the half line it was reading to a line of a later file when it falls two rotations behind', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'line 000001\nline 0000');
    const f = follow(store);
    // The half line's end, and the whole next file, are rotated away before the reader looks again.
    writeFileSync(files.stdout, 'line 000001\nline 000002\nline 000003\n');
    rotate(files.stdout, 0, 'line 000004\n');
    rotate(files.stdout, 1, 'line 000005\nline 000006\n');
    await tick(100);
    await f.stop();
    const lines = f.printed().split('\n').filter(Boolean);
    expect(lines.filter((l) => !/^line \d{6}$/.test(l))).toEqual([]);
    expect(lines.at(-1)).toBe('line 000006');
  });

  it('drops the end of a line whose start it never saw when it falls two rotations behind and the later file begins mid-line', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'line 000001\n');
    const f = follow(store);
    await tick(100);
    // Two rotations before the reader looks again; the second copy begins with the end of line 000003.
    writeFileSync(files.stdout, 'line 000001\nline 000002\nline 0000');
    rotate(files.stdout, 0, '03\nline 00', 'c');
    rotate(files.stdout, 1, '0004\n', 'mc');
    await tick(100);
    await f.stop();
    expect(f.printed()).toBe('line 000001\nline 000004\n');
  });

  it('prints a copy that begins mid-line from its first whole line, and a line split across the copy and the file whole', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'line 0000');
    rotate(files.stdout, 0, '01\nline 000002\nline 00', 'c');
    rotate(files.stdout, 1, '0003\nline 000004\n', 'mc');
    let printed = '';
    await readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} });
    expect(printed).toBe('line 000002\nline 000003\nline 000004\n');
    // With -t: the fragment's record is dropped with it, the others keep theirs.
    printed = '';
    await readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} }, { times: { timestamps: true } });
    expect(printed.split('\n').filter(Boolean).map((l) => l.split(' ').slice(1).join(' '))).toEqual(['line 000002', 'line 000003', 'line 000004']);
  });

  it('prints a line being written once it stays unfinished for half a second (a prompt), and ends it if what follows is lost', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'ready\n');
    const f = follow(store);
    await tick(100);
    writeFileSync(files.stdout, 'ready\npassword: ');
    await tick(100);
    expect(f.printed()).toBe('ready\n');
    await tick(800);
    expect(f.printed()).toBe('ready\npassword: ');
    rotate(files.stdout, 0, 'lost\n');
    rotate(files.stdout, 1, 'after\n');
    await tick(100);
    await f.stop();
    expect(f.printed()).toBe('ready\npassword: \nlost\nafter\n');
  });

  it('follows one rotation without losing or repeating a byte, a line split across the two files included', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'a\nb');
    const f = follow(store);
    await tick(100);
    writeFileSync(files.stdout, 'a\nbc\n');
    rotate(files.stdout, 0, 'd\n');
    await tick(100);
    await f.stop();
    expect(f.printed()).toBe('a\nbc\nd\n');
  });
});
