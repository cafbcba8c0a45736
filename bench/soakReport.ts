// What a soak run's samples say: for each series (Redis memory and keys, the stream, the scheduler's data,
// each process's RSS), how much it grew over the second half of the run, from the slope of a least-squares
// line, and whether that is within its target; then the table and an SVG chart of every series.

export interface Sample {
  /** Seconds since the load began. */
  t: number;
  values: Record<string, number>;
}

export interface SeriesVerdict {
  name: string;
  unit: string;
  first: number;
  last: number;
  max: number;
  /** For a series that grows in steps to a known bound: the most it may reach, instead of a growth limit. */
  ceiling?: number;
  /** Growth over the second half, in % of the series' mean there (from the slope). */
  growthPercent: number;
  /** The target it is held to: growth below this, in %. */
  limitPercent: number;
  levelledOff: boolean;
}

/** Least-squares slope of y over x. */
export function slope(points: readonly [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

/** How much a series grew over the second half of the samples, in % of its mean there. */
export function secondHalfGrowth(samples: readonly Sample[], name: string): number {
  const half = samples.slice(Math.floor(samples.length / 2)).filter((sample) => name in sample.values);
  if (half.length < 2) return 0;
  const points = half.map((sample) => [sample.t, sample.values[name] ?? 0] as [number, number]);
  const mean = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const span = (half.at(-1)?.t ?? 0) - (half[0]?.t ?? 0);
  return mean === 0 ? 0 : (slope(points) * span * 100) / mean;
}

export interface SeriesSpec {
  name: string;
  unit: string;
  limitPercent: number;
  ceiling?: number;
}

export function verdicts(samples: readonly Sample[], specs: readonly SeriesSpec[]): SeriesVerdict[] {
  return specs.map(({ name, unit, limitPercent, ceiling }) => {
    const growthPercent = secondHalfGrowth(samples, name);
    const present = samples.filter((sample) => name in sample.values);
    const max = Math.max(0, ...present.map((sample) => sample.values[name] ?? 0));
    return {
      name,
      unit,
      first: present[0]?.values[name] ?? 0,
      last: present.at(-1)?.values[name] ?? 0,
      max,
      ...(ceiling === undefined ? {} : { ceiling }),
      growthPercent,
      limitPercent,
      levelledOff: ceiling === undefined ? growthPercent < limitPercent : max <= ceiling,
    };
  });
}

const figure = (value: number, unit: string) =>
  unit === 'MiB' ? `${value.toFixed(1)} MiB` : `${Math.round(value).toLocaleString('en')}${unit ? ` ${unit}` : ''}`;

export function table(rows: readonly SeriesVerdict[]): string {
  const lines = [
    '| series | at the start | at the end | growth over the second half | target |  |',
    '| --- | --: | --: | --: | --: | :-: |',
  ];
  for (const row of rows) {
    const growth = `${row.growthPercent >= 0 ? '+' : ''}${row.growthPercent.toFixed(1)} %`;
    const target = row.ceiling === undefined ? `< ${row.limitPercent} %` : `at most ${figure(row.ceiling, row.unit)}`;
    lines.push(
      `| ${row.name} | ${figure(row.first, row.unit)} | ${figure(row.last, row.unit)} | ${growth} | ${target} | ${row.levelledOff ? '✓' : '✗'} |`,
    );
  }
  return lines.join('\n');
}

/** One small panel per series, over time, each on its own scale (their units differ). */
export function chart(samples: readonly Sample[], rows: readonly SeriesVerdict[], title: string): string {
  const width = 360;
  const height = 110;
  const columns = 3;
  const end = samples.at(-1)?.t ?? 1;
  const panels = rows.map((row, n) => {
    const x0 = (n % columns) * (width + 20) + 10;
    const y0 = Math.floor(n / columns) * (height + 40) + 40;
    const values = samples.filter((sample) => row.name in sample.values);
    const max = Math.max(1, ...values.map((sample) => sample.values[row.name] ?? 0));
    const points = values
      .map((sample) => {
        const x = x0 + (sample.t / end) * width;
        const y = y0 + height - ((sample.values[row.name] ?? 0) / max) * height;
        return `${x.toFixed(1)},${y.toFixed(1)}`;
      })
      .join(' ');
    const colour = row.levelledOff ? '#2a7' : '#c33';
    return [
      `<text x="${x0}" y="${y0 - 6}" font-size="12">${xmlText(row.name)} (max ${xmlText(figure(max, row.unit))})</text>`,
      `<rect x="${x0}" y="${y0}" width="${width}" height="${height}" fill="none" stroke="#ccc"/>`,
      `<line x1="${x0 + width / 2}" y1="${y0}" x2="${x0 + width / 2}" y2="${y0 + height}" stroke="#eee"/>`,
      `<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${points}"/>`,
    ].join('\n');
  });
  const rowsOfPanels = Math.ceil(rows.length / columns);
  const svgWidth = columns * (width + 20);
  const svgHeight = rowsOfPanels * (height + 40) + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${svgWidth}" height="${svgHeight}" font-family="sans-serif">`,
    `<text x="10" y="20" font-size="14">${xmlText(title)} (each panel 0 to its max over ${Math.round(end)} s; the second half right of the grey line)</text>`,
    ...panels,
    '</svg>',
  ].join('\n');
}

const xmlText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
