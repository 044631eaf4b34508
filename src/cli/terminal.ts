// Whether one of our standard streams is a terminal, asked of the fd itself.
// process.stdin.isTTY (or stdout's) builds Node's stream for it on first
// use: for a pipe or a file that is a net.Socket or fs.ReadStream and the
// modules behind them, ~5-10 ms of a CLI start that only wanted a yes or no
// (bench/profile-cli.ts found it in every `lxzone run`). Same answer:
// Node's isTTY is true exactly when the fd is a terminal.
import { isatty } from 'node:tty';

export const isTerminal = (fd: 0 | 1 | 2): boolean => isatty(fd);
