#!/usr/bin/env node
// Builds the native parts offline: the addon and lxzone-shim (binding.gyp),
// then the C fixtures (probes, escapes). node-gyp is pointed at the headers of
// the node that runs this script, so it never tries to download them.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const nodedir = dirname(dirname(process.execPath));
if (!existsSync(join(nodedir, 'include', 'node', 'node_api.h'))) {
  console.error(`build-native: no Node headers under ${nodedir}/include/node; install the nodejs headers package`);
  process.exit(1);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build-native: ${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

// The facts both sides of the seam share, as a header and a module (seam/facts.json).
run(process.execPath, [join(root, 'scripts', 'gen-seam.mjs')]);
const gyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// configure + build, not rebuild: make then compiles only what changed since
// the last build here. `npx lxzone` in a checkout links the checkout into npm's
// exec cache and runs this install script again on every fresh one: a rebuild
// there recompiled everything (minutes on 2 cores) before the first zone ran.
run(process.execPath, [gyp, 'configure', `--nodedir=${nodedir}`]);
run(process.execPath, [gyp, 'build', `--jobs=${Math.max(2, (await import('node:os')).cpus().length)}`]);
if (existsSync(join(root, 'fixtures', 'Makefile'))) run('make', ['-s', '-C', 'fixtures', `-j${(await import('node:os')).cpus().length}`]);
