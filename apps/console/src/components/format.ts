const UNITS = ['B', 'kB', 'MB', 'GB', 'TB'];

/** Sizes as `docker images` prints them: powers of 1000, three significant digits. */
export function humanSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3).replace(/\.0+$|(\.\d*?)0+$/, '$1')}${UNITS[unit]}`;
}

const SPANS: Array<[number, string]> = [
  [60, 'second'],
  [60, 'minute'],
  [24, 'hour'],
  [7, 'day'],
  [4.35, 'week'],
  [12, 'month'],
  [Number.POSITIVE_INFINITY, 'year'],
];

/** `3 days ago`, as the CLI says it. */
export function relativeTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return iso;
  let value = Math.max(0, (now - at) / 1000);
  for (const [size, unit] of SPANS) {
    if (value < size) {
      const whole = Math.floor(value);
      if (unit === 'second' && whole < 2) return 'just now';
      return `${whole} ${unit}${whole === 1 ? '' : 's'} ago`;
    }
    value /= size;
  }
  return iso;
}

export function seconds(value: number | null): string {
  if (value === null) return '';
  return value < 10 ? `${value.toFixed(1)}s` : `${Math.round(value)}s`;
}

export function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : `${Math.round(value * 100)}%`;
}
