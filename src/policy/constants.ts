// Symbolic constants for rule values, from syscall-tables/rules/constants.json
// (reviewed data with a comment per value), and the parser of rule values.
import { readFileSync } from 'node:fs';
import { LxzoneError } from '../errors.js';
import { rulesDir } from './paths.js';
import type { RawValue } from './types.js';

export interface ConstantEntry {
  value: bigint;
  comment: string;
}

let cache: Map<string, ConstantEntry> | undefined;

export function constants(): Map<string, ConstantEntry> {
  if (cache) return cache;
  const file = `${rulesDir()}/constants.json`;
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { constants: Record<string, { value: number | string; comment: string }> };
  const map = new Map<string, ConstantEntry>();
  for (const [name, entry] of Object.entries(doc.constants)) {
    const value = parseNumber(entry.value);
    if (value === undefined) throw new LxzoneError(`${file}: constant ${name}: value ${JSON.stringify(entry.value)} is not a number`, { where: `${file}#constants.${name}` });
    map.set(name, { value, comment: entry.comment });
  }
  cache = map;
  return map;
}

const U64 = (1n << 64n) - 1n;

/** A plain number: JSON number, "123", "0x7b", "-100" (two's complement in 64 bits). */
export function parseNumber(v: number | string): bigint | undefined {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) return undefined;
    return BigInt(v) & U64;
  }
  const s = v.trim();
  if (!/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(s)) return undefined;
  const neg = s.startsWith('-');
  const n = BigInt(neg ? s.slice(1) : s);
  if (n > U64) return undefined;
  return (neg ? -n : n) & U64;
}

/**
 * A rule value: a number, or "A|B|0x10" where each part is a number or a
 * constant name. Returns the 64-bit value or a message saying what is wrong.
 */
export function parseValue(raw: RawValue): { value: bigint } | { error: string } {
  const v = typeof raw === 'object' ? raw.value : raw;
  const direct = parseNumber(v);
  if (direct !== undefined) return { value: direct };
  if (typeof v === 'number') return { error: `${v} is not a safe integer` };
  let acc = 0n;
  for (const part of v.split('|').map((p) => p.trim())) {
    const n = parseNumber(part) ?? constants().get(part)?.value;
    if (n === undefined) return { error: `unknown constant "${part}" (known ones are in syscall-tables/rules/constants.json)` };
    acc |= n;
  }
  return { value: acc };
}
