// Docker's stream multiplexing (no tty): each chunk is preceded by an 8-byte
// header, [stream, 0, 0, 0, size as big-endian uint32], stream 1 = stdout,
// 2 = stderr. With a tty the bytes go as they are.
import type { LogStream } from '../../zone/lifecycle/logs.js';

const STREAM_ID: Record<LogStream, number> = { stdout: 1, stderr: 2 };

export function frame(stream: LogStream, chunk: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = STREAM_ID[stream];
  h.writeUInt32BE(chunk.length, 4);
  return Buffer.concat([h, chunk]);
}

/** Keeps only the lines of `chunk` that pass `keep` (for --since/--until on logs without stored times). */
export function splitLines(chunk: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < chunk.length; i++) {
    if (chunk[i] === 0x0a) {
      out.push(chunk.subarray(start, i + 1));
      start = i + 1;
    }
  }
  if (start < chunk.length) out.push(chunk.subarray(start));
  return out;
}
