// JSON schema of syscall-tables/linux/<abi>.json (see types.ts). Shape only;
// the cross-entry rules (sorted, unique, every number a syscall or a hole,
// at most six argument registers) are checked in validate.ts.
import { ABIS, SYSCALL_CLASSES } from './types.js';

const arg = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'type'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, type: { type: 'string', minLength: 1 } },
} as const;

const syscall = {
  type: 'object',
  additionalProperties: false,
  required: ['nr', 'name', 'args', 'class', 'source'],
  properties: {
    nr: { type: 'integer', minimum: 0 },
    name: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' },
    args: { type: 'array', maxItems: 6, items: arg },
    class: { enum: [...SYSCALL_CLASSES] },
    source: { type: 'string', pattern: '^(uapi|overlay:\\d+\\.\\d+)$' },
    entry: { type: 'string', pattern: '^sys_[a-z0-9_]+$' },
    unimplemented: { type: 'string', minLength: 1 },
    variantOf: { type: 'string', pattern: '^[a-z_][a-z0-9_]*$' },
    multiplexer: {
      type: 'object',
      additionalProperties: false,
      required: ['arg', 'calls'],
      properties: {
        arg: { type: 'integer', minimum: 0, maximum: 5 },
        calls: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', additionalProperties: false, required: ['value', 'name'],
            properties: { value: { type: 'integer', minimum: 0 }, name: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;

export const tableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['abi', 'auditArch', 'auditArchName', 'maxNr', 'generatedFrom', 'syscalls', 'holes'],
  properties: {
    abi: { enum: [...ABIS] },
    auditArch: { type: 'integer', minimum: 0, maximum: 0xffffffff },
    auditArchName: { type: 'string', pattern: '^AUDIT_ARCH_[A-Z0-9_]+$' },
    maxNr: { type: 'integer', minimum: 0 },
    generatedFrom: { type: 'array', items: { type: 'string' } },
    syscalls: { type: 'array', minItems: 1, items: syscall },
    holes: {
      type: 'array',
      items: {
        type: 'object', additionalProperties: false, required: ['nr', 'reason'],
        properties: { nr: { type: 'integer', minimum: 0 }, reason: { type: 'string', minLength: 1 } },
      },
    },
  },
} as const;
