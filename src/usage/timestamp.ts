/**
 * Strict ISO 8601 timestamps for usage events: date, time with seconds, optional fraction and a
 * mandatory offset (`Z` or ±hh:mm). Date.parse alone is lenient (it turns Feb 30 into Mar 1), so
 * every field is range-checked. Precision is the millisecond; finer fractions are truncated.
 */
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds since the epoch, or undefined when `value` is not a valid timestamp. */
export function parseTimestamp(value: string): number | undefined {
  const m = TIMESTAMP_RE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const fractionMs = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, fractionMs) - offsetMs;
}
