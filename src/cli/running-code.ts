// Which file's code is running: a module of the CLI is either its own file
// (dist/cli/*.js as tsc built it, or src/ under tsx) or a part of one of the
// CLI's bundles (dist/cli-bundle/*.cjs, scripts/build-cli.mjs), where its
// import.meta.url is rewritten to name its file in dist/ (so it finds the
// package's files as unbundled) though the code that runs is the bundle's.
// The bundle's banner defines __lxzoneBundleUrl, the bundle file's URL.
import { fileURLToPath } from 'node:url';

declare const __lxzoneBundleUrl: string | undefined;

/** The file holding the code of the module at `moduleUrl` (its import.meta.url) as it runs now: its bundle when bundled. */
export function runningCodeFile(moduleUrl: string): string {
  return fileURLToPath(typeof __lxzoneBundleUrl === 'string' ? __lxzoneBundleUrl : moduleUrl);
}
