// Prints jest's totals as the plain closing line CI reads: `N passed, N failed`.
class TotalsReporter {
  onRunComplete(_contexts, results) {
    process.stdout.write(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed\n`);
  }
}
module.exports = TotalsReporter;
