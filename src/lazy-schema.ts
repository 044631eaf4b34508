// A JSON Schema validator compiled on first use. Compiling every schema when
// its module loads cost the CLI ~130 ms on each start, whatever the verb.
import { Ajv, type ErrorObject, type Options } from 'ajv';

export interface LazyValidator {
  (data: unknown): boolean;
  /** The errors of the last call, as ajv gives them. */
  errors?: ErrorObject[] | null;
}

export function lazySchema(schema: object, options: Options = { allErrors: true }): LazyValidator {
  let compiled: ReturnType<Ajv['compile']> | undefined;
  const validate: LazyValidator = (data) => {
    compiled ??= new Ajv(options).compile(schema);
    const ok = compiled(data) as boolean;
    validate.errors = compiled.errors;
    return ok;
  };
  return validate;
}
