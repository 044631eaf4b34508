// The supervisor's handlers, by id. The id is the byte stored in the dispatch
// table (see native/supervisor/dispatch.h); both sides take the list from
// seam/facts.json (src/seam.generated.ts, native/common/seam.generated.h).
import { HANDLERS } from '../seam.generated.js';

export { HANDLERS };

export type HandlerName = (typeof HANDLERS)[number];

export function handlerId(name: HandlerName): number {
  return HANDLERS.indexOf(name);
}

export function isHandlerName(name: string): name is HandlerName {
  return (HANDLERS as readonly string[]).includes(name);
}
