#!/usr/bin/env node
// lxzone as an OCI runtime (runc's command line). containerd's shim starts it
// for every call (create, start, state, kill, delete): `npm ci` / `npm run
// build` bundle the front end (dist/oci/) into dist/cli-bundle/lxzone-runc.cjs
// (scripts/build-cli.mjs), loaded with V8's code cache as bin/lxzone.js loads
// the CLI's, instead of resolving and linking its ES modules one by one on
// every call. Where only tsc has run (no bundle), dist/oci/ is used.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { loadCommonJs } = require('./code-cache.js');

const bundle = join(__dirname, '..', 'dist', 'cli-bundle', 'lxzone-runc.cjs');

Promise.resolve()
  .then(() => (existsSync(bundle) ? loadCommonJs(bundle) : import('../dist/oci/cli.js')))
  .then((m) => m.main(process.argv))
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((err) => {
    process.stderr.write(`lxzone-runc: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
