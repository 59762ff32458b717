/** Reading Prometheus' text exposition format, as a scraper would, for tests of /metrics. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** Every metric family the text declares (`# TYPE`), observed or not. */
  families: Map<string, string>;
  /** The sum of the samples named `name` whose labels include `labels`. */
  sum(name: string, labels?: Record<string, string>): number;
  /** The samples named `name` whose labels include `labels`. */
  find(name: string, labels?: Record<string, string>): Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const families = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name = '', type = ''] = line.split(' ');
      families.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name = '', labelText = '', value = ''] = match;
    const labels: Record<string, string> = {};
    for (const [, label = '', raw = ''] of labelText.matchAll(LABEL))
      labels[label] = raw.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    samples.push({ name, labels, value: Number(value) });
  }
  const find = (name: string, labels: Record<string, string> = {}): Sample[] =>
    samples.filter(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    );
  return { samples, families, find, sum: (name, labels) => find(name, labels).reduce((sum, s) => sum + s.value, 0) };
}

export async function scrape(metricsUrl: string | undefined): Promise<Scrape> {
  if (!metricsUrl) throw new Error('metrics are off for this process');
  const response = await fetch(new URL('/metrics', metricsUrl));
  if (response.status !== 200) throw new Error(`/metrics answered HTTP ${response.status}`);
  return parseMetrics(await response.text());
}

/** The metric names a family of the given type is sampled under (a histogram's _bucket, _sum and _count). */
export function sampleNames(family: string, type: string): string[] {
  return type === 'histogram'
    ? [`${family}_bucket`, `${family}_sum`, `${family}_count`]
    : type === 'summary'
      ? [family, `${family}_sum`, `${family}_count`]
      : [family];
}
