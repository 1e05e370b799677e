/**
 * Events over time as stacked SVG bars, one colour per EventType (colours in styles.css, by class:
 * the CSP allows no inline <style>). Drawn at the container's real width, so text never stretches.
 * Every bar with events carries its count, and the y axis has whole numbers only, so a handful of
 * events reads as plainly as thousands. Times are local, 24-hour, and the zone is named.
 */
import { useEffect, useRef, useState } from 'react';
import { formatDateTime, zoneName } from './ui.tsx';

export interface TimeBucket {
  start: number;
  counts: Record<string, number>;
}

const HEIGHT = 210;
const PAD = { top: 22, right: 8, bottom: 26, left: 36 };

const typeClass = (t: string) => `t-${t.replace('.', '-')}`;
const pad = (n: number) => String(n).padStart(2, '0');

/** The top of the y axis: a whole number at least n, with whole-number ticks at 0, half and top. */
function niceMax(n: number): number {
  if (n <= 2) return 2;
  if (n <= 4) return 4;
  const mag = 10 ** Math.floor(Math.log10(n));
  for (const step of [1, 2, 2.5, 5, 10])
    if (step * mag >= n && Number.isInteger((step * mag) / 2)) return step * mag;
  return 10 * mag;
}

/** "1 hour", "15 minutes": the width of one bar. */
export function bucketLabel(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 60 === 0) return minutes === 60 ? '1 hour' : `${minutes / 60} hours`;
  return `${minutes} minutes`;
}

export function EventChart({
  buckets,
  bucketMs,
  types,
  summary,
}: {
  buckets: TimeBucket[];
  bucketMs: number;
  types: readonly string[];
  /** What the chart covers, for its accessible name: the count, the window, the zone. */
  summary: string;
}) {
  const wrap = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = wrap.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);

  const totals = buckets.map((b) => Object.values(b.counts).reduce((a, c) => a + c, 0));
  const max = niceMax(Math.max(0, ...totals));
  const innerW = Math.max(0, width - PAD.left - PAD.right);
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = buckets.length ? innerW / buckets.length : 0;
  const barW = Math.max(3, slot * 0.72);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  // A label every so many bars, so that labels (about 40 px wide) never overlap.
  const every = Math.max(1, Math.ceil(42 / Math.max(slot, 1)));
  const labelEvery = [1, 2, 3, 4, 6, 8, 12, 24, 48].find((n) => n >= every) ?? 48;
  const present = types.filter((t) => buckets.some((b) => b.counts[t]));
  const byType = present.map((t) => `${t} ${buckets.reduce((a, b) => a + (b.counts[t] ?? 0), 0)}`);
  const label = `Events by type, per ${bucketLabel(bucketMs)}. ${summary}${byType.length ? `: ${byType.join(', ')}` : ''}`;
  const zone = zoneName(new Date(buckets[0]?.start ?? Date.now()));

  return (
    <figure className="chart">
      <div ref={wrap} className="chart-canvas">
        {width > 0 && (
          <svg width={width} height={HEIGHT} role="img" aria-label={label}>
            {[0, 0.5, 1].map((f) => (
              <g key={f}>
                <line className="grid" x1={PAD.left} x2={width - PAD.right} y1={y(max * f)} y2={y(max * f)} />
                <text className="axis" x={PAD.left - 6} y={y(max * f) + 4} textAnchor="end">
                  {max * f}
                </text>
              </g>
            ))}
            {buckets.map((b, i) => {
              const x = PAD.left + i * slot + (slot - barW) / 2;
              let acc = 0;
              const d = new Date(b.start);
              const tick = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
              return (
                <g key={b.start}>
                  <title>{`${formatDateTime(d, false)} + ${bucketLabel(bucketMs)}: ${totals[i]} events${
                    totals[i]
                      ? ` (${types
                          .filter((t) => b.counts[t])
                          .map((t) => `${t} ${b.counts[t]}`)
                          .join(', ')})`
                      : ''
                  }`}</title>
                  {types.map((t) => {
                    const n = b.counts[t] ?? 0;
                    if (!n) return null;
                    const y0 = y(acc + n);
                    const h = y(acc) - y0;
                    acc += n;
                    return (
                      <rect
                        key={t}
                        className={typeClass(t)}
                        x={x}
                        y={y0}
                        width={barW}
                        height={Math.max(h, 2)}
                      />
                    );
                  })}
                  {totals[i]! > 0 && slot >= 14 && (
                    <text
                      className="axis bar-count"
                      x={x + barW / 2}
                      y={y(totals[i]!) - 4}
                      textAnchor="middle"
                    >
                      {totals[i]}
                    </text>
                  )}
                  {i % labelEvery === 0 && (
                    <text
                      className="axis"
                      x={PAD.left + i * slot + slot / 2}
                      y={HEIGHT - 8}
                      textAnchor="middle"
                    >
                      {tick}
                    </text>
                  )}
                </g>
              );
            })}
            <line className="baseline" x1={PAD.left} x2={width - PAD.right} y1={y(0)} y2={y(0)} />
          </svg>
        )}
      </div>
      <figcaption>
        <p className="muted chart-zone">
          Times in {zone}, 24-hour; one bar per {bucketLabel(bucketMs)}.
        </p>
        <ul className="legend">
          {types.map((t) => (
            <li key={t} className={present.includes(t) ? '' : 'absent'}>
              <span className={`swatch ${typeClass(t)}`} aria-hidden="true" />
              {t}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
