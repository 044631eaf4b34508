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
    banner: { js: "const __lxzoneBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    // tsx is asked for only when the CLI runs from source, never from a bundle.
    external: ['tsx'],
    plugins: [ownUrl],
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
await writeFile(join(out, 'verbs.json'), `${JSON.stringify(map)}\n`);
