/**
 * The registry of wire formats (SPEC §9): a format is served by the feed, and listed as a valid
 * `format=`, once its presenter is in PRESENTER_LIST. Feed-level tests iterate over this registry, so a
 * format added here is covered by them without a change.
 */
import { cefPresenter } from './cef.js';
import { ecsPresenter } from './ecs.js';
import { jsonPresenter } from './json.js';
import { leefPresenter } from './leef.js';
import { ocsfPresenter } from './ocsf.js';
import type { FormatName, Presenter } from './presenter.js';
import { syslogPresenter } from './syslog.js';

export type { FormatName, Presenter, PresentContext, WireEvent } from './presenter.js';

const PRESENTER_LIST: readonly Presenter[] = [
  jsonPresenter,
  ocsfPresenter,
  ecsPresenter,
  cefPresenter,
  leefPresenter,
  syslogPresenter,
];

export const PRESENTERS: ReadonlyMap<FormatName, Presenter> = new Map(
  PRESENTER_LIST.map((p) => [p.format, p]),
);

/** The formats the feed serves, the default first. */
export const FORMAT_NAMES: readonly FormatName[] = [...PRESENTERS.keys()];

export const DEFAULT_FORMAT: FormatName = 'json';
