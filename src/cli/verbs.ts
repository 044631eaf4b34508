// Every verb of the CLI, in the order `lxzone --help` lists them. Each verb's
// module (and what it imports) is loaded only when that verb runs: a start
// that loaded all sixteen cost every `lxzone run` ~100 ms of module loading
// for verbs it never used. `lxzone --help` (or an unknown verb) loads them all.
import type { Command } from 'commander';

export type RegisterVerb = (program: Command) => void;

interface Verb {
  name: string;
  aliases?: string[];
  load: () => Promise<{ register: RegisterVerb }>;
}

export const VERBS: Verb[] = [
  { name: 'run', load: () => import('./run.js') },
  { name: 'syscalls', load: () => import('./syscalls.js') },
  { name: 'conformance', load: () => import('./conformance.js') },
  { name: 'policy', load: () => import('./policy.js') },
  { name: 'stats', load: () => import('./stats.js') },
  { name: 'update', load: () => import('./update.js') },
  { name: 'create', load: () => import('./create.js') },
  { name: 'boot', load: () => import('./boot.js') },
  { name: 'halt', load: () => import('./halt.js') },
  { name: 'reboot', load: () => import('./reboot.js') },
  { name: 'destroy', load: () => import('./destroy.js') },
  { name: 'list', aliases: ['ls'], load: () => import('./list.js') },
  { name: 'inspect', load: () => import('./inspect.js') },
  { name: 'logs', load: () => import('./logs.js') },
  { name: 'exec', load: () => import('./exec.js') },
  { name: 'daemon', load: () => import('./daemon.js') },
  { name: 'pull', load: () => import('./pull.js') },
  { name: 'images', load: () => import('./images.js') },
  { name: 'rmi', load: () => import('./rmi.js') },
  { name: 'image', load: () => import('./image.js') },
  { name: 'volume', load: () => import('./volume.js') },
];

/**
 * The registrations a command line needs: the named verb's alone when the
 * first argument names one, otherwise every verb (help, version, a typo that
 * commander should answer with the list).
 */
export async function verbsFor(args: readonly string[]): Promise<RegisterVerb[]> {
  const first = args.find((a) => !a.startsWith('-'));
  const named = first === undefined ? undefined : VERBS.find((v) => v.name === first || v.aliases?.includes(first));
  const wanted = named && args[0] === first ? [named] : VERBS;
  return (await Promise.all(wanted.map((v) => v.load()))).map((m) => m.register);
}
