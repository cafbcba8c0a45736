// Counting a vitest JSON report honestly: a file that failed before its tests ran (its beforeAll threw,
// or it did not load) counts its tests as failed, not skipped; such a file with no tests counts as one.

export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults?: { name: string; status: string; message?: string; assertionResults?: { status: string }[] }[];
}

export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

export function countReport(report: VitestReport): Counts {
  let failed = report.numFailedTests;
  let skipped = report.numPendingTests + report.numTodoTests;
  for (const file of report.testResults ?? []) {
    if (file.status !== 'failed') continue;
    const results = file.assertionResults ?? [];
    const notRun = results.filter((result) => result.status !== 'passed' && result.status !== 'failed').length;
    const ran = results.filter((result) => result.status === 'failed').length;
    if (results.length === 0) failed += 1;
    else if (ran === 0) {
      // Nothing failed in it, yet the file did: what it skipped never ran because of that.
      failed += notRun;
      skipped -= notRun;
    }
  }
  return { passed: report.numPassedTests, failed, skipped: Math.max(0, skipped) };
}
