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

/** One rotation as the keeper does it: mark, rename to .1, begin a new file, count. */
function rotate(file: string, n: number, next: string): void {
  writeFileSync(`${file}.gen`, `${n} r`);
  renameSync(file, `${file}.1`);
  writeFileSync(file, next);
  writeFileSync(`${file}.gen`, String(n + 1));
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('logs -f', () => {
  it('never joins the half line it was reading to a line of a later file when it falls two rotations behind', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'line 000001\nline 0000');
    let printed = '';
    let running = true;
    const done = readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} }, { follow: true, running: () => running, pollMs: 30 });
    // The half line's end, and the whole next file, are rotated away before the reader looks again.
    writeFileSync(files.stdout, 'line 000001\nline 000002\nline 000003\n');
    rotate(files.stdout, 0, 'line 000004\n');
    rotate(files.stdout, 1, 'line 000005\nline 000006\n');
    await tick(100);
    running = false;
    await done;
    const lines = printed.split('\n').filter(Boolean);
    expect(lines.filter((l) => !/^line \d{6}$/.test(l))).toEqual([]);
    expect(lines.at(-1)).toBe('line 000006');
  });

  it('prints a line being written once it stays unfinished for half a second (a prompt), and ends it if what follows is lost', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'ready\n');
    let printed = '';
    let running = true;
    const done = readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} }, { follow: true, running: () => running, pollMs: 30 });
    await tick(100);
    writeFileSync(files.stdout, 'ready\npassword: ');
    await tick(100);
    expect(printed).toBe('ready\n');
    await tick(800);
    expect(printed).toBe('ready\npassword: ');
    rotate(files.stdout, 0, 'lost\n');
    rotate(files.stdout, 1, 'after\n');
    await tick(100);
    running = false;
    await done;
    expect(printed).toBe('ready\npassword: \nlost\nafter\n');
  });

  it('follows one rotation without losing or repeating a byte, a line split across the two files included', async () => {
    const { store, files } = zoneLogDir();
    writeFileSync(files.stdout, 'a\nb');
    let printed = '';
    let running = true;
    const done = readLogs(store, 'z', { stdout: (b) => (printed += b), stderr: () => {} }, { follow: true, running: () => running, pollMs: 30 });
    await tick(100);
    writeFileSync(files.stdout, 'a\nbc\n');
    rotate(files.stdout, 0, 'd\n');
    await tick(100);
    running = false;
    await done;
    expect(printed).toBe('a\nbc\nd\n');
  });
});
