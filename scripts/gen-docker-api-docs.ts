// Writes docs/docker-api.md from the Docker API's route table.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderDockerApiDoc } from '../src/daemon/docker/api-doc.js';

const out = join(import.meta.dirname, '..', 'docs', 'docker-api.md');
writeFileSync(out, renderDockerApiDoc());
process.stdout.write(`wrote ${out}\n`);
