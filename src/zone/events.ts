// What the supervisor tells us about a zone, decoded once from the addon's
// raw events (zone, type, a, b, text, call fields) into a tagged union. Every
// consumer (one-shot runs, daemon zones, re-attach, exec) switches on `type`
// and reads named fields; nobody decodes `a`/`b` again.
import type { NativeEvent } from '../native.js';

/** The syscall an event is about. */
export interface CallFields {
  pid: number;
  abi: string;
  nr: number;
  args: bigint[];
  /** The notification's id (js-call: what the answer names). */
  id: bigint;
}

type Of<T extends string, F = object> = { zone: number; type: T } & F;

export type ZoneEvent =
  | Of<'created', { initPid: number }>
  | Of<'ready', { initPid: number }>
  | Of<'started'>
  | Of<'exec-failed', { errno: number; path?: string }>
  | Of<'setup-failed', { errno: number; step?: string }>
  | Of<'exited', { exitCode: number; waitStatus: number }>
  | Of<'closed'>
  | Of<'unsupported', CallFields>
  | Of<'trace', CallFields & { strings: (string | undefined)[] }>
  | Of<'reboot', CallFields & { action: 'restart' | 'halt' }>
  | Of<'js-call', CallFields>
  | Of<'handler-error', CallFields & { errno: number; text?: string }>;

export type ZoneEventType = ZoneEvent['type'];

function call(e: NativeEvent): CallFields {
  return { pid: e.pid ?? 0, abi: e.abi ?? '?', nr: e.nr ?? -1, args: e.args ?? [], id: e.id ?? 0n };
}

/** The one decoder of the addon's events (native/supervisor/events.h says what a, b and text hold). */
export function decodeEvent(e: NativeEvent): ZoneEvent {
  const zone = e.zone;
  const text = e.text !== undefined && e.text !== '' ? e.text : undefined;
  switch (e.type) {
    case 'created':
    case 'ready':
      return { zone, type: e.type, initPid: e.a };
    case 'started':
    case 'closed':
      return { zone, type: e.type };
    case 'exec-failed':
      return { zone, type: e.type, errno: e.a, ...(text ? { path: text } : {}) };
    case 'setup-failed':
      return { zone, type: e.type, errno: e.a, ...(text ? { step: text } : {}) };
    case 'exited':
      return { zone, type: e.type, exitCode: e.a, waitStatus: e.b };
    case 'unsupported':
    case 'js-call':
      return { zone, type: e.type, ...call(e) };
    case 'trace':
      // Decoded C strings, one per argument index, "\x1f"-separated (empty: not a string).
      return { zone, type: e.type, ...call(e), strings: (e.text ?? '').split('\x1f').map((s) => s || undefined) };
    case 'reboot':
      return { zone, type: e.type, ...call(e), action: e.a === 1 ? 'restart' : 'halt' };
    case 'handler-error':
      return { zone, type: e.type, ...call(e), errno: e.a, ...(text ? { text } : {}) };
  }
}
