/**
 * The JSON format (SPEC §2, the default): the envelope itself, with its Seq. The feed does not call
 * `present` per event: it splices the stored leaves (log-leaf.ts `wireOfLeaf`), which yields the same
 * object without a parse or a stringify per event (json.test.ts holds the two to each other). The
 * stream, push delivery and any caller holding a parsed event use this presenter.
 */
import type { ObjectPresenter, WireEvent } from './presenter.js';

export function presentJson(e: WireEvent): Record<string, unknown> {
  return e;
}

export const jsonPresenter: ObjectPresenter = { format: 'json', kind: 'object', present: presentJson };
