// JSON Schema validators compiled on first use, with ajv itself loaded on
// first use. Compiling every schema when its module loads cost the CLI ~130 ms
// on each start, whatever the verb; importing ajv's ~100 modules cost most of
// the rest of a `run` that never validates anything (its policy comes from the
// precompiled cache, src/policy/cache.ts). ajv is CommonJS, so a synchronous
// require can load it on first use without making every caller async.
import { createRequire } from 'node:module';
import type { Ajv as AjvType, ErrorObject, Options } from 'ajv';

const require = createRequire(import.meta.url);
let ajvClass: typeof AjvType | undefined;

/** A new ajv instance; the library is loaded on the first call. */
export function newAjv(options: Options): AjvType {
  ajvClass ??= (require('ajv') as typeof import('ajv')).Ajv;
  return new ajvClass(options);
}

export interface LazyValidator {
  (data: unknown): boolean;
  /** The errors of the last call, as ajv gives them. */
  errors?: ErrorObject[] | null;
}

export function lazySchema(schema: object, options: Options = { allErrors: true }): LazyValidator {
  let compiled: ReturnType<AjvType['compile']> | undefined;
  const validate: LazyValidator = (data) => {
    compiled ??= newAjv(options).compile(schema);
    const ok = compiled(data) as boolean;
    validate.errors = compiled.errors;
    return ok;
  };
  return validate;
}
