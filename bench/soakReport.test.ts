import { describe, expect, it } from 'vitest';
import { chart, type Sample, secondHalfGrowth, slope, table, verdicts } from './soakReport.ts';

const series = (values: (t: number) => number, seconds = 100): Sample[] =>
  Array.from({ length: seconds / 5 + 1 }, (_, n) => ({ t: n * 5, values: { keys: values(n * 5) } }));

describe('a soak run’s series', () => {
  it('fits a line to find the slope', () => {
    expect(
      slope([
        [0, 1],
        [1, 3],
        [2, 5],
      ]),
    ).toBeCloseTo(2);
    expect(slope([[0, 4]])).toBe(0);
  });

  it('levels off when it stops growing in the second half, whatever it did in the first', () => {
    const levelling = series((t) => Math.min(t, 50) * 10 + 100);
    expect(secondHalfGrowth(levelling, 'keys')).toBeCloseTo(0);
    const growing = series((t) => t * 10 + 100);
    // From 600 to 1100 over the second half, around a mean of 850: about 59 %.
    expect(secondHalfGrowth(growing, 'keys')).toBeCloseTo((10 * 50 * 100) / 850, 0);
    const [flat, rising] = [levelling, growing].map(
      (samples) => verdicts(samples, [{ name: 'keys', unit: '', limitPercent: 5 }])[0],
    );
    expect(flat?.levelledOff).toBe(true);
    expect(rising?.levelledOff).toBe(false);
  });

  it('reports each series in a table and draws it', () => {
    const rows = verdicts(
      series((t) => t),
      [{ name: 'keys', unit: '', limitPercent: 5 }],
    );
    expect(table(rows)).toMatch(/\| keys \| 0 \| 100 \| \+\d+\.\d % \| < 5 % \| ✗ \|/);
    expect(
      chart(
        series((t) => t),
        rows,
        'a <test>',
      ),
    ).toMatch(/<polyline fill="none" stroke="#c33"[^>]*points="10\.0,150\.0 /);
    expect(
      chart(
        series((t) => t),
        rows,
        'a <test>',
      ),
    ).toContain('a &lt;test&gt;');
  });
});

describe('a series that grows in steps to a bound', () => {
  it('is held to its ceiling, not to its growth', () => {
    const steps = series((t) => (t < 60 ? 100 : 164));
    const [row] = verdicts(steps, [{ name: 'keys', unit: 'MiB', limitPercent: 10, ceiling: 200 }]);
    expect(row?.growthPercent).toBeGreaterThan(10);
    expect(row?.levelledOff).toBe(true);
    expect(table(row ? [row] : [])).toContain('at most 200.0 MiB');
  });
});
