// Every verb of the CLI, in the order `lxzone --help` lists them.
import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as syscalls } from './syscalls.js';
import { register as conformance } from './conformance.js';
import { register as policy } from './policy.js';
import { register as stats } from './stats.js';
import { register as update } from './update.js';

export type RegisterVerb = (program: Command) => void;

export const verbs: RegisterVerb[] = [run, syscalls, conformance, policy, stats, update];
