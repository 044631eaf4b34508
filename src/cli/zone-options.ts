// The zone flags (declared once in src/zone/config/zone-flags.ts) as
// commander options of one verb.
import { Option, type Command } from 'commander';
import { ZONE_FLAGS, type ZoneVerb } from '../zone/config/zone-flags.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function addZoneOptions(cmd: Command, verb: ZoneVerb): Command {
  for (const f of ZONE_FLAGS) {
    if (!f.verbs.includes(verb)) continue;
    const o = new Option(f.option, typeof f.help === 'string' ? f.help : f.help[verb]);
    if (f.choices) o.choices(f.choices);
    if (f.repeatable) o.argParser(collect).default([]);
    cmd.addOption(o);
  }
  return cmd;
}
