// Writes docs/syscalls.md from the syscall tables and the rules.
//   npx tsx scripts/gen-syscall-docs.ts           (npm run gen:docs)
//   npx tsx scripts/gen-syscall-docs.ts --check   exit 1 if the page is stale
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderSyscallDocs } from '../src/coverage/docs.js';
import { LxzoneError } from '../src/errors.js';

const FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'docs', 'syscalls.md');

try {
  const text = renderSyscallDocs();
  const old = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (old !== text) {
      process.stderr.write(`${FILE}: out of date (run npm run gen:docs)\n`);
      process.exitCode = 1;
    }
  } else if (old !== text) {
    writeFileSync(FILE, text);
    process.stdout.write(`wrote ${FILE}\n`);
  }
} catch (err) {
  if (!(err instanceof LxzoneError)) throw err;
  process.stderr.write(`gen-syscall-docs: ${err.message}\n`);
  process.exitCode = 1;
}
