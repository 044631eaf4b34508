// Every verb of the CLI, in the order `lxzone --help` lists them.
import type { Command } from 'commander';
import { register as run } from './run.js';
import { register as syscalls } from './syscalls.js';
import { register as conformance } from './conformance.js';
import { register as policy } from './policy.js';
import { register as stats } from './stats.js';
import { register as update } from './update.js';
import { register as create } from './create.js';
import { register as boot } from './boot.js';
import { register as halt } from './halt.js';
import { register as reboot } from './reboot.js';
import { register as destroy } from './destroy.js';
import { register as list } from './list.js';
import { register as inspect } from './inspect.js';
import { register as logs } from './logs.js';
import { register as daemon } from './daemon.js';
import { register as exec } from './exec.js';

export type RegisterVerb = (program: Command) => void;

export const verbs: RegisterVerb[] = [run, syscalls, conformance, policy, stats, update, create, boot, halt, reboot, destroy, list, inspect, logs, exec, daemon];
