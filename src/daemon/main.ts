// Entry point of a daemon started on demand by the CLI or the TypeScript API
// (see client.ts); `lxzone daemon` is the same for service managers.
import { reportError } from '../cli/main.js';
import { runDaemon } from './server.js';

runDaemon().catch((err) => {
  reportError(err);
  process.exit(typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : 1);
});
