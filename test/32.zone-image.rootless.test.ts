// An unprivileged user (nobody, created by the system) unpacks an image: no
// ownership shift (the caller is the rootless zone's root), modes kept, a
// read-only directory in the image, and the tree removed again.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOBODY, nobodysRoot, runNodeAsNobody } from './support/nobody.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;
let dir: string;

beforeAll(() => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'lxz-32r-'));
  chownSync(dir, NOBODY, NOBODY);
  const src = join(dir, 'src');
  mkdirSync(join(src, 'proc'), { recursive: true, mode: 0o555 });
  mkdirSync(join(src, 'home/app'), { recursive: true });
  writeFileSync(join(src, 'home/app/f'), 'x');
  writeFileSync(join(src, 'su'), '#!', { mode: 0o4755 });
  spawnSync('chmod', ['555', join(src, 'proc')]);
  spawnSync('chmod', ['4755', join(src, 'su')]);
  spawnSync('chown', ['-R', '1000:1000', join(src, 'home')]);
  tar.c({ file: join(dir, 'img.tar'), cwd: src, sync: true }, ['.']);
  chownSync(join(dir, 'img.tar'), NOBODY, NOBODY);
  writeFileSync(
    join(dir, 'worker.mts'),
    `import { lstatSync, existsSync } from 'node:fs';
import { unpackImage, removeTree } from ${JSON.stringify(join(nobodysRoot(), 'src/zone/image/index.ts'))};
import { ZoneStore } from ${JSON.stringify(join(nobodysRoot(), 'src/zone/state/index.ts'))};
const [archive, dest] = process.argv.slice(2);
const out = {};
try { unpackImage(archive, dest + '-shifted', { idShift: 100000 }); } catch (e) { out.shiftError = e.message; }
const r = unpackImage(archive, dest);
const st = (p) => { const s = lstatSync(dest + '/' + p); return [s.uid, s.mode & 0o7777]; };
Object.assign(out, { uid: process.getuid(), format: r.format, root: st('.'), home: st('home/app/f'), proc: st('proc'), su: st('su') });
removeTree(dest);
out.removed = !existsSync(dest);
out.stateDir = new ZoneStore({ env: { HOME: '/home/u' } }).stateDir;
console.log(JSON.stringify(out));
`,
  );
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describeUnless(rootOnly(), 'unpacking as an unprivileged user', () => {
  it('keeps the caller as owner, keeps modes, and removes read-only trees', async () => {
    const r = await runNodeAsNobody(() => [join(dir, 'worker.mts'), join(dir, 'img.tar'), join(dir, 'root')], {
      cwd: '/tmp',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toEqual({
      shiftError: `image ${join(dir, 'img.tar')}: shifting file owners needs root; use idShift: null`,
      uid: NOBODY,
      format: 'rootfs',
      root: [NOBODY, 0o555], // mkdirSync(recursive, 0o555) made src itself 0555, like Fedora's /
      home: [NOBODY, 0o644],
      proc: [NOBODY, 0o555],
      su: [NOBODY, 0o755],
      removed: true,
      stateDir: '/home/u/.local/share/lxzone',
    });
    expect(existsSync(join(dir, 'root'))).toBe(false);
  });
});
