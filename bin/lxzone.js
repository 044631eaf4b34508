#!/usr/bin/env node
// The installed entry point. `npm ci` / `npm run build` bundle the CLI into
// dist/cli-bundle/ (scripts/build-cli.mjs): one file per verb, so `lxzone
// run` reads one file instead of resolving and linking ~130 ES modules. The
// verb is picked as src/cli/verbs.ts picks it: the first argument, when it
// names a verb; otherwise every verb (help, version, typos). Where only tsc
// has run (no bundle), the CLI as compiled (dist/cli/) is used.
//
// A bundle is compiled with V8's code cache (bin/code-cache.js): half of
// what loading it cost was compiling it, on every call (issue 18). This file
// is CommonJS (bin/package.json): an ES module entry has Node set up its ESM
// loader before the first line runs, ~6 ms of every call.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { loadCommonJs } = require('./code-cache.js');

function bundled() {
  let verbs;
  try {
    verbs = JSON.parse(readFileSync(join(__dirname, '..', 'dist', 'cli-bundle', 'verbs.json'), 'utf8'));
  } catch (err) {
    // No bundle: tsc's output is the CLI.
    if (err && err.code === 'ENOENT') return undefined;
    throw err;
  }
  const first = process.argv[2];
  const file = first !== undefined && Object.hasOwn(verbs, first) ? verbs[first] : 'all.cjs';
  return loadCommonJs(join(__dirname, '..', 'dist', 'cli-bundle', file));
}

Promise.resolve()
  .then(() => bundled() ?? import('../dist/cli/main.js'))
  .then((m) => m.main(process.argv))
  .catch((err) => {
    process.stderr.write(`lxzone: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(125);
  });
