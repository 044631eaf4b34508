// Bundles the CLI as tsc built it (dist/cli/) into dist/cli-bundle/ with
// esbuild: one CommonJS file per verb (that verb, the program around it and
// what they import, node_modules included) and all.cjs for the rest (help,
// version, a mistyped verb). bin/lxzone.js picks the file from the command
// line (verbs.json maps each verb and alias to its file).
//
// Why: `lxzone run` loaded ~130 ES modules one by one (resolve, stat, read,
// compile, link, evaluate each), the larger part of the CLI's cost over
// `node -e 0`; one file loaded by require() skips the module loader's work
// and every module no verb of this call needs (bench/profile-cli.ts shows
// where a start's time goes).
//
// Each bundled module keeps its own import.meta.url (rewritten to its file in
// dist/, which stays): code that finds the package root, the addon, the rules
// or the daemon's entry from its own location finds them as it did unbundled,
// and the policy cache's key (src/policy/cache.ts hashes dist/policy/*.js) is
// the one the build computed.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const cli = join(dist, 'cli');
const out = join(dist, 'cli-bundle');
const { VERBS } = await import(join(cli, 'verbs.js'));

const ownUrl = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('import.meta')) return undefined;
      const rel = relative(out, args.path).split(sep).join('/');
      const contents = text
        .replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, __lxzoneBundleUrl).href`)
        // Only a run from source (tsx) asks this; CommonJS has require.resolve for it.
        .replaceAll('import.meta.resolve(', 'require.resolve(');
      return { contents, loader: 'js' };
    });
  },
};

// Libraries only the image paths use (unpacking, zstd layers, pull bars):
// each is bundled, but its code runs when one of its exports is first read,
// not when a module importing it is loaded. list, exec and most verbs import
// the lifecycle, which imports the image code, so every such start
// evaluated tar (and zlib, assert, fs/promises behind it): ~25 ms CPU.
// The stand-in is CommonJS with a getter per export of the real package (as
// the build's own require sees them), so `import * as tar` and
// `import { Decompress }` read the real export, classes and all.
// Node's child_process and dgram likewise: commander asks for child_process
// at load (for subcommands as programs, which lxzone has none of), the
// network and procview code for the cases that run a tool; a plain
// `lxzone run` (the shim spawned by the addon) needs neither (~5 ms).
const LAZY_LIBS = ['tar', 'fzstd', 'cli-progress', 'child_process', 'dgram'];
const requireHere = createRequire(import.meta.url);
const lazyLibs = {
  name: 'lazy-libraries',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_LIBS.join('|')})$`);
    b.onResolve({ filter }, (args) => (args.namespace === 'lazy-lib' || args.pluginData === 'real' ? undefined : { path: args.path, namespace: 'lazy-lib' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-lib' }, async (args) => {
      const names = Object.keys(requireHere(args.path));
      // The file an import of it resolves to (tar's is its minified ES build), required by path.
      const real = await b.resolve(args.path, { kind: 'import-statement', resolveDir: root, pluginData: 'real' });
      if (real.errors.length) throw new Error(`cannot resolve ${args.path}`);
      const contents = [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(real.path)}));`,
        `for (const name of ${JSON.stringify(names)}) Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });`,
      ].join('\n');
      return { contents, loader: 'js', resolveDir: root };
    });
  },
};

async function bundle(file, contents) {
  await build({
    stdin: { contents, resolveDir: cli, sourcefile: file.replace(/\.cjs$/, '-entry.js'), loader: 'js' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    outfile: join(out, file),
    // Whitespace and syntax minified, names kept (LXZONE_DEBUG=1's stack trace
    // still names each function): with the code cache (bin/code-cache.js) V8
    // no longer parses the source, but it still reads and makes a string of
    // every byte of it. run.cjs 700 -> 460 KB, ~10 ms less CPU per start
    // at load ~10 (docs/parts/bench.md).
    minifyWhitespace: true,
    minifySyntax: true,
    minifyIdentifiers: false,
    sourcemap: false,
    // The bundle's own URL: the base of the rewritten import.meta.url above, and the file whose
    // code runs (src/cli/running-code.ts: a launch description lists it as an input).
    banner: { js: "const __lxzoneBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // tsx is asked for only when the CLI runs from source, never from a bundle.
    external: ['tsx'],
    plugins: [ownUrl, lazyLibs],
    logLevel: 'warning',
    legalComments: 'none',
  });
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const map = {};
for (const verb of VERBS) {
  const file = `${verb.name}.cjs`;
  await bundle(file, `import { runProgram } from './program.js';\nimport { register } from './${verb.name}.js';\nexport const main = (argv) => runProgram(argv, [register]);\n`);
  for (const name of [verb.name, ...(verb.aliases ?? [])]) map[name] = file;
}
await bundle('all.cjs', `export { main } from './main.js';\n`);
// lxzone-runc (bin/lxzone-runc.js): containerd's shim starts it for every
// create, start, state, kill and delete; unbundled, each call loaded its
// ~150 ES modules one by one (docs/parts/oci-runtime.md, Measured).
await bundle('lxzone-runc.cjs', `export { main } from '../oci/cli.js';\n`);
await writeFile(join(out, 'verbs.json'), `${JSON.stringify(map)}\n`);
