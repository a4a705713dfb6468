/**
 * A small strict reader of OpenMetrics text (the subset of the spec a textfile uses: gauges and
 * counters, TYPE/UNIT/HELP, labels, # EOF). Throws on anything the spec does not allow, so a
 * test that parses a file checks its format. (The reference parser, Python prometheus_client's
 * openmetrics parser, accepts what this accepts; it is not a dependency of the tests.)
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  unit?: string;
  help?: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'unknown', 'info', 'stateset', 'histogram', 'gaugehistogram', 'summary']);

export function parseOpenMetrics(text: string): Map<string, Family> {
  if (!text.endsWith('# EOF\n')) throw new Error('must end with "# EOF" and a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.pop() !== '# EOF') throw new Error('"# EOF" must be the last line');
  const families = new Map<string, Family>();
  let current: Family | undefined;
  const family = (name: string, line: number): Family => {
    if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
    if (current?.name === name) return current;
    if (families.has(name)) throw new Error(`line ${line}: family ${name} is not contiguous`);
    current = { name, type: 'unknown', samples: [] };
    families.set(name, current);
    return current;
  };
  lines.forEach((text, i) => {
    const n = i + 1;
    if (text === '' || text === '# EOF') throw new Error(`line ${n}: empty line or early # EOF`);
    const meta = /^# (TYPE|UNIT|HELP) (\S+) ?(.*)$/.exec(text);
    if (meta) {
      const f = family(meta[2], n);
      if (f.samples.length) throw new Error(`line ${n}: metadata after samples of ${f.name}`);
      if (meta[1] === 'TYPE') {
        if (!TYPES.has(meta[3])) throw new Error(`line ${n}: unknown type ${meta[3]}`);
        f.type = meta[3];
      } else if (meta[1] === 'UNIT') {
        if (!f.name.endsWith(`_${meta[3]}`)) throw new Error(`line ${n}: a family with unit ${meta[3]} must end in _${meta[3]}`);
        f.unit = meta[3];
      } else f.help = meta[3];
      return;
    }
    if (text.startsWith('#')) throw new Error(`line ${n}: comments are not allowed in OpenMetrics: ${text}`);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(text);
    if (!sample) throw new Error(`line ${n}: not a sample: ${text}`);
    const [, name, rawLabels, rawValue] = sample;
    const suffixes = current?.type === 'counter' ? ['_total', '_created'] : [''];
    if (!current || !suffixes.some((s) => name === current!.name + s)) throw new Error(`line ${n}: sample ${name} outside its family`);
    const labels = parseLabels(rawLabels ?? '', n);
    const key = JSON.stringify([name, labels]);
    if (current.samples.some((s) => JSON.stringify([s.name, s.labels]) === key)) throw new Error(`line ${n}: duplicate sample ${key}`);
    current.samples.push({ name, labels, value: parseValue(rawValue, n) });
  });
  return families;
}

function parseLabels(raw: string, n: number): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!raw) return labels;
  let rest = raw.slice(1, -1);
  while (rest.length) {
    const m = /^([^=]+)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/.exec(rest);
    if (!m || !LABEL.test(m[1])) throw new Error(`line ${n}: bad labels ${raw}`);
    if (m[1] in labels) throw new Error(`line ${n}: label ${m[1]} twice`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
    if (m[3] === ',' && !rest.length) throw new Error(`line ${n}: trailing comma in ${raw}`);
  }
  return labels;
}

function parseValue(raw: string, n: number): number {
  if (raw === 'NaN') return NaN;
  if (raw === '+Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) throw new Error(`line ${n}: bad value ${raw}`);
  return Number(raw);
}
