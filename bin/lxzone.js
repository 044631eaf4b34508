#!/usr/bin/env node
// The installed entry point: the compiled CLI lives in dist/ (built by `npm ci`).
import('../dist/cli/main.js').then((m) => m.main(process.argv)).catch((err) => {
  process.stderr.write(`lxzone: ${err && err.message ? err.message : String(err)}\n`);
  process.exit(125);
});
