/**
 * A strict reader of Prometheus' text exposition format (0.0.4), for tests:
 * no installed package parses it (prom-client only writes it). It throws, with
 * the line number, on anything the format does not allow, and on what a
 * scrape would make of it that Prometheus refuses: a TYPE after its samples, a
 * family split in two, a series twice, a histogram whose buckets are not
 * cumulative or lack +Inf, a negative counter.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | null;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** Go's ParseFloat, as Prometheus reads values: NaN and Inf in any case (prom-client writes `Nan`). */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[nN][aA][nN]|[+-]?(?:[iI][nN][fF](?:[iI][nN][iI][tT][yY])?))$/;

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the exposition does not end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n').slice(0, -1);
  const familyOf = (name: string, line: number): Family => {
    let family = families.get(name);
    if (family && family !== current && closed.has(name)) throw new Error(`line ${line}: family ${name} appears in two places`);
    if (!family) {
      family = { name, type: 'untyped', help: null, samples: [] };
      families.set(name, family);
    }
    if (current && current !== family) closed.add(current.name);
    current = family;
    return family;
  };
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(raw);
      if (!meta) return; // Any other comment is allowed.
      const [, kind, name = '', rest = ''] = meta;
      if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name "${name}"`);
      const family = familyOf(name, line);
      if (kind === 'HELP') {
        if (family.help !== null) throw new Error(`line ${line}: second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`line ${line}: bad escape in HELP of ${name}`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown TYPE "${rest}" for ${name}`);
        if (family.samples.length > 0) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        family.type = rest as Family['type'];
      }
      return;
    }
    const sample = parseSample(raw, line);
    const family = familyOf(familyName(sample.name, current), line);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seen.has(key)) throw new Error(`line ${line}: series ${key} appears twice`);
    seen.add(key);
    family.samples.push(sample);
  });
  for (const family of families.values()) checkFamily(family);
  return families;
}

/** A histogram's or summary's `_bucket`, `_sum`, `_count` belong to the family being read. */
function familyName(sampleName: string, current: Family | null): string {
  if (current && (current.type === 'histogram' || current.type === 'summary')) {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      if (sampleName === current.name + suffix && (suffix !== '_bucket' || current.type === 'histogram')) return current.name;
    }
  }
  return sampleName;
}

function parseSample(raw: string, line: number): Sample {
  const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
  if (!head) throw new Error(`line ${line}: no metric name in "${raw}"`);
  const name = head[1] as string;
  let rest = raw.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    for (;;) {
      if (rest.startsWith('}')) {
        rest = rest.slice(1);
        break;
      }
      const pair = /^([^=]*)="((?:[^"\\\n]|\\[\\"n])*)"(,?)/.exec(rest);
      if (!pair) throw new Error(`line ${line}: bad label pair in "${raw}"`);
      const [whole, labelName = '', value = '', comma] = pair;
      if (!LABEL_NAME.test(labelName) || labelName.startsWith('__')) throw new Error(`line ${line}: bad label name "${labelName}"`);
      if (labelName in labels) throw new Error(`line ${line}: label ${labelName} twice`);
      labels[labelName] = value.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(whole.length);
      if (!comma && !rest.startsWith('}')) throw new Error(`line ${line}: labels not separated by a comma in "${raw}"`);
    }
  }
  const fields = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!fields || !VALUE.test(fields[1] as string)) throw new Error(`line ${line}: bad value or timestamp in "${raw}"`);
  const text = fields[1] as string;
  const lower = text.toLowerCase();
  const value = lower.endsWith('nan') ? NaN : lower.includes('inf') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(text);
  return { name, labels, value };
}

function checkFamily(family: Family): void {
  if (family.type === 'counter') {
    for (const sample of family.samples) if (!(sample.value >= 0)) throw new Error(`counter ${sample.name} is ${sample.value}`);
  }
  if (family.type !== 'histogram') return;
  const series = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (sample.name === `${family.name}_bucket`) {
      if (le === undefined) throw new Error(`${sample.name} without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value]);
    } else if (sample.name === `${family.name}_count`) entry.count = sample.value;
    else if (sample.name !== `${family.name}_sum`) throw new Error(`histogram ${family.name} has a sample ${sample.name}`);
  }
  for (const [key, entry] of series) {
    const sorted = [...entry.buckets].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) {
      if ((sorted[i] as [number, number])[1] < (sorted[i - 1] as [number, number])[1]) throw new Error(`histogram ${family.name}${key}: buckets not cumulative`);
    }
    const inf = sorted[sorted.length - 1];
    if (!inf || inf[0] !== Infinity) throw new Error(`histogram ${family.name}${key}: no +Inf bucket`);
    if (entry.count !== inf[1]) throw new Error(`histogram ${family.name}${key}: _count ${entry.count} is not the +Inf bucket ${inf[1]}`);
  }
}

/** The samples of `name` (a sample name: `x_total`, `x_bucket`, `x_count`) whose labels include `labels`. */
export function samples(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): Sample[] {
  return [...families.values()]
    .flatMap((family) => family.samples)
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
}

/** The sum of those samples' values (0 when there are none). */
export function total(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  return samples(families, name, labels).reduce((sum, sample) => sum + sample.value, 0);
}
