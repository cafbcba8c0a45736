import { describe, expect, it } from 'vitest';
import { countReport } from './vitestReport.ts';

const base = { numPassedTests: 10, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0 };

describe('counting a vitest report', () => {
  it('counts the tests of a file whose beforeAll failed as failed, not skipped', () => {
    const report = {
      ...base,
      numPendingTests: 3,
      testResults: [
        { name: 'a.test.ts', status: 'passed', assertionResults: [{ status: 'passed' }] },
        { name: 'b.test.ts', status: 'failed', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] },
      ],
    };
    expect(countReport(report)).toEqual({ passed: 10, failed: 2, skipped: 1 });
  });

  it('counts a file that failed with no tests at all as one failure', () => {
    const report = { ...base, testResults: [{ name: 'c.test.ts', status: 'failed', assertionResults: [] }] };
    expect(countReport(report).failed).toBe(1);
  });

  it('leaves a file with a failed test as vitest counted it', () => {
    const report = {
      ...base,
      numFailedTests: 1,
      numPendingTests: 1,
      testResults: [
        { name: 'd.test.ts', status: 'failed', assertionResults: [{ status: 'failed' }, { status: 'skipped' }] },
      ],
    };
    expect(countReport(report)).toEqual({ passed: 10, failed: 1, skipped: 1 });
  });
});
