// Plays a daemon that starts a zone able to outlive it (a re-attach socket)
// and then waits to be killed. Prints {"keeperPid", "initPid"} once the zone's binary runs.
// argv: SOCKET OUTFILE TIMEOUT_SECONDS COMMAND...
import { openSync } from 'node:fs';
import { startZone } from '../../src/zone/run.js';

const [socket, outFile, timeout, ...argv] = process.argv.slice(2);
const out = openSync(outFile!, 'a');
// Report only once the binary runs: a supervisor killed while the zone is
// still being built takes the zone with it (the keeper fails closed).
let started!: () => void;
const running = new Promise<void>((r) => (started = r));
const zone = startZone({
  onEvent: (e) => e.type === 'started' && started(),
  argv,
  kernelVersion: '7.7.7-reattached',
  stdio: 'fds',
  stdioFds: [openSync('/dev/null', 'r'), out, out],
  detached: true,
  reattachSocket: socket,
  reattachTimeoutSeconds: Number(timeout),
});
const initPid = await zone.initPid;
await running;
process.stdout.write(`${JSON.stringify({ keeperPid: zone.keeperPid, initPid })}\n`);
setInterval(() => undefined, 1 << 30);
