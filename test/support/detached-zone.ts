// Plays a daemon that starts a zone able to outlive it (a re-attach socket)
// and then waits to be killed. Prints {"keeperPid", "initPid"} once the zone runs.
// argv: SOCKET OUTFILE TIMEOUT_SECONDS COMMAND...
import { openSync } from 'node:fs';
import { startZone } from '../../src/zone/run.js';

const [socket, outFile, timeout, ...argv] = process.argv.slice(2);
const out = openSync(outFile!, 'a');
const zone = startZone({
  argv,
  kernelVersion: '7.7.7-reattached',
  stdio: 'fds',
  stdioFds: [openSync('/dev/null', 'r'), out, out],
  detached: true,
  reattachSocket: socket,
  reattachTimeoutSeconds: Number(timeout),
});
const initPid = await zone.initPid;
process.stdout.write(`${JSON.stringify({ keeperPid: zone.keeperPid, initPid })}\n`);
setInterval(() => undefined, 1 << 30);
