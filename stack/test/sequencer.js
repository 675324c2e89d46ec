// Orders test files as jest would, then moves the kind cluster's to the end: they start a whole
// cluster, and the local stack's tests should not share the two cores with it.
const Sequencer = require('@jest/test-sequencer').default;

const inKind = (test) =>
  test.path.includes(
    `${require('node:path').sep}test${require('node:path').sep}kind${require('node:path').sep}`,
  );

class KindLastSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [...sorted.filter((t) => !inKind(t)), ...sorted.filter(inKind)];
  }
}

module.exports = KindLastSequencer;
