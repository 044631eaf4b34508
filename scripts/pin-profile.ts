// Writes test/pinned/default-profile.json: the default profile's decisions
// that are not plain "host", per ABI, as reviewed data. Run it only after
// reviewing what test/20.policy.pinned printed (npm run pin:profile).
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedDecisions } from '../src/policy/pinned.js';

const FILE = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'test', 'pinned', 'default-profile.json');
const data = {
  comment: 'Reviewed: what the default profile does with every syscall it does not simply allow. Written by npm run pin:profile after review; test/20.policy.pinned compares it with the rules, and a zone fixture checks each refusal.',
  ...pinnedDecisions(),
};
writeFileSync(FILE, `${JSON.stringify(data, null, 2)}\n`);
process.stdout.write(`wrote ${FILE}\n`);
