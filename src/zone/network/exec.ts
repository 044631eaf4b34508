// Running iproute2 and nsenter. `ip` is the ecosystem's tool for links and
// addresses; shelling out keeps netlink message building out of lxzone, and
// its error text ("Cannot find device", "File exists") is what an operator
// would see running the same command by hand, so we pass it on verbatim.
import { spawn } from 'node:child_process';
import { LxzoneError } from '../../errors.js';

export interface RunResult {
  stdout: string;
  stderr: string;
}

const TIMEOUT_MS = 15_000;

/** Run a command, optionally feeding `input` on stdin; reject with the command line and its stderr. */
export function run(cmd: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new LxzoneError(`cannot run ${cmd}: ${err.message}`, { code: err.code, cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout, stderr });
      const how = signal ? `killed by ${signal}` : `exit ${code}`;
      reject(
        new LxzoneError(`${cmd} ${args.join(' ')} failed (${how}): ${stderr.trim() || stdout.trim()}`, {
          code: 'ECMDFAILED',
        }),
      );
    });
    child.stdin.on('error', () => {}); // the command may exit before reading everything
    child.stdin.end(input ?? '');
  });
}

/** `ip ARGS` on the host. */
export function ip(...args: string[]): Promise<RunResult> {
  return run('ip', args);
}

/** `ip -batch -` on the host: several commands in one process, stops at the first failure. */
export function ipBatch(lines: string[]): Promise<RunResult> {
  return run('ip', ['-batch', '-'], lines.join('\n') + '\n');
}

/** `ip -batch -` inside the network namespace of `pid` (nsenter enters only the netns). */
export function ipBatchIn(pid: number, lines: string[]): Promise<RunResult> {
  return run('nsenter', ['-t', String(pid), '-n', 'ip', '-batch', '-'], lines.join('\n') + '\n');
}

/** `ip ARGS` inside the network namespace of `pid`. */
export function ipIn(pid: number, ...args: string[]): Promise<RunResult> {
  return run('nsenter', ['-t', String(pid), '-n', 'ip', ...args]);
}

/** JSON output of `ip -j ARGS` inside the network namespace of `pid`. */
export async function ipJsonIn<T = unknown>(pid: number, ...args: string[]): Promise<T[]> {
  const { stdout } = await ipIn(pid, '-j', ...args);
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as T[]);
}

/** JSON output of `ip -j ...`, e.g. ipJson('link', 'show'). */
export async function ipJson<T = unknown>(...args: string[]): Promise<T[]> {
  const { stdout } = await ip('-j', ...args);
  return stdout.trim() === '' ? [] : (JSON.parse(stdout) as T[]);
}

/** True when the error text from `ip` says the object does not exist. */
export function isNotFound(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : String(err);
  return /Cannot find device|does not exist|No such device|Cannot assign requested address/.test(msg);
}
