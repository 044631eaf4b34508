// Where the policy data lives: syscall-tables/rules/ at the package root,
// found from this file (src/policy/ or dist/policy/ alike).
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

export function packageRoot(): string {
  return resolve(here, '..', '..');
}

export function rulesDir(): string {
  return resolve(packageRoot(), 'syscall-tables', 'rules');
}
