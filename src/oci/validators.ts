// config.json's validators, compiled when the package is built. containerd
// starts lxzone-runc afresh for every call, and `create` checks the bundle's
// config.json: loading ajv (~100 CommonJS modules) and compiling the schema
// was most of a create's own time (about 0.7-1.1 s of 1.9 s at load ~25, a
// profile of each call `ctr run --rm` makes; docs/parts/oci-runtime.md,
// Measured). scripts/build-oci-validators.mjs writes ajv's standalone code
// for each schema of spec.ts (OCI_SCHEMAS) into dist/oci/validators.cjs,
// with the JSON of the schema and options each was compiled from: a built
// validator is used only when that JSON is the schema this code holds, so a
// build that ran tsc and not the script falls back to compiling, never to a
// stale check. From source (tsx, vitest) there is no built file: compiled on
// first use, as before (src/lazy-schema.ts).
import { createRequire } from 'node:module';
import type { Options } from 'ajv';
import { lazySchema, type LazyValidator } from '../lazy-schema.js';

/** The ajv options every OCI schema is compiled with (the build script uses these too). */
export const OCI_SCHEMA_OPTIONS: Options = { allErrors: true };

interface BuiltModule {
  /** name → JSON.stringify([schema, options]) it was compiled from. */
  sources: Record<string, string>;
  validators: Record<string, LazyValidator>;
}

const require = createRequire(import.meta.url);
let built: BuiltModule | null | undefined;

function loadBuilt(): BuiltModule | null {
  try {
    return require('./validators.cjs') as BuiltModule;
  } catch (err) {
    // Not built (a run from source): the schemas are compiled instead.
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

/** The key a built validator carries: what it was compiled from. */
export function schemaSource(schema: object, options: Options = OCI_SCHEMA_OPTIONS): string {
  return JSON.stringify([schema, options]);
}

/** A validator for `schema`: the built one named `name` if it was compiled from this schema, else ajv's on first use. */
export function builtValidator(name: string, schema: object): LazyValidator {
  let fn: LazyValidator | undefined;
  const validate: LazyValidator = (data) => {
    if (!fn) {
      built ??= loadBuilt();
      const pre = built?.validators[name];
      fn = pre && built!.sources[name] === schemaSource(schema) ? pre : lazySchema(schema, OCI_SCHEMA_OPTIONS);
    }
    const ok = fn(data);
    validate.errors = fn.errors;
    return ok;
  };
  return validate;
}
