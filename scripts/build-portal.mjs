// Bundles the portal's pages (portal/) into dist/portal/: app.js (the
// TypeScript and xterm.js), app.css, index.html. Run by `npm run build` and
// at `npm ci` (prepare): the portal loads nothing from elsewhere at run time.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'portal');
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, 'portal', 'src', 'main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  outdir: out,
  logLevel: 'warning',
  legalComments: 'eof',
});
copyFileSync(join(root, 'portal', 'index.html'), join(out, 'index.html'));
