// Which files' code is running: a module of the CLI is either its own file
// (dist/**/*.js as tsc built it, or src/**/*.ts under tsx) or a part of one of
// the CLI's bundles (dist/cli-bundle/*.cjs, scripts/build-cli.mjs), where its
// import.meta.url is rewritten to name its file in dist/ (so it finds the
// package's files as unbundled) though the code that runs is the bundle's.
// The bundle's banner defines __lxzoneBundleUrl, the bundle file's URL.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __lxzoneBundleUrl: string | undefined;

/**
 * The files holding the code of the module at `moduleUrl` (its import.meta.url) as it runs now and of
 * every module of ours it imports: its bundle when bundled (one file, which holds them all); else its
 * own file and each one its static and dynamic imports of relative paths reach, followed through the
 * files themselves (importsOf), so the list is the import graph as built, with no list to keep.
 * Packages (bare specifiers) and computed specifiers are not followed.
 */
export function runningCodeFiles(moduleUrl: string): string[] {
  if (typeof __lxzoneBundleUrl === 'string') return [fileURLToPath(__lxzoneBundleUrl)];
  return importGraph(fileURLToPath(moduleUrl));
}

function importGraph(root: string): string[] {
  const seen = new Set<string>();
  const todo = [root];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const n of importsOf(file)) {
      if (n.startsWith('./') || n.startsWith('../')) todo.push(sourceOf(resolve(dirname(file), n)));
    }
  }
  return [...seen].sort();
}

/**
 * The specifiers a module imports (static, re-exports, dynamic with a literal). Required at run time, not
 * imported: a bundle never walks, and esbuild leaves a created require's package out of it (nothing added
 * to what every bundled `lxzone run` loads). tsc's output (JavaScript) through es-module-lexer; TypeScript
 * source, run under tsx (so with the dev dependencies installed), through TypeScript's own preProcessFile,
 * as the lexer reads JavaScript only (a generic's `>` can end its parse).
 */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const require = createRequire(import.meta.url);
  if (file.endsWith('.ts')) {
    const ts = require('typescript') as typeof import('typescript');
    return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  }
  const lexer = require('es-module-lexer') as typeof import('es-module-lexer');
  lexer.initSync();
  return lexer.parse(text, file)[0].flatMap(({ n }) => (n === undefined ? [] : [n]));
}

/** An import's file: as named, or under tsx (running src/) the .ts file a `.js` specifier stands for. */
function sourceOf(path: string): string {
  if (path.endsWith('.js') && !existsSync(path) && existsSync(`${path.slice(0, -3)}.ts`)) return `${path.slice(0, -3)}.ts`;
  return path;
}
