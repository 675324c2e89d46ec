// Orders test files as jest would, then moves two groups to the end:
// - the specs that start stacks of their own beside the shared one (a second `npm start`, the Dapr
//   CLI's multi-app run): in fresh-clone runs where they came just before the saga fault tests, the
//   shared stack's sidecars were found restarted or stalled; after every other integration test they
//   disturb nothing;
// - the kind cluster's end-to-end tests, last: they start a whole cluster, and the local stack's tests
//   should not share the two cores with it.
const path = require('node:path');
const Sequencer = require('@jest/test-sequencer').default;

const inKind = (test) => test.path.includes(`${path.sep}test${path.sep}kind${path.sep}`);
const ownStack = (test) => /stack[\\/]test[\\/](stack-lifecycle|dapr-cli)\.test\.ts$/.test(test.path);

class SequencerWithLateGroups extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    return [
      ...sorted.filter((t) => !inKind(t) && !ownStack(t)),
      ...sorted.filter((t) => ownStack(t)),
      ...sorted.filter(inKind),
    ];
  }
}

module.exports = SequencerWithLateGroups;
