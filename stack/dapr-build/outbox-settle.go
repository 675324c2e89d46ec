// Added to dapr 1.18.1's pkg/runtime/pubsub before daprd is built; outbox-fixes.sed calls it from
// the handler of the outbox's internal topic (see that file, change 4).
//
// daprd publishes an outbox message to its internal topic before the state transaction runs, and
// the transaction writes a marker key named after the message. The handler forwards the message
// once the marker exists. Upstream, a marker it does not find is looked up again for 10 s before
// the message is given up for rolled back, and the Kafka consumer hands a partition's messages over
// one at a time: every rolled-back transaction (an ETag or first-write conflict, which concurrent
// duplicate commands cause on purpose) held back every later event of its partition for 10 s.
//
// A missing marker is settled instead: the handler writes a tombstone under the marker's key with
// first-write. outbox-fixes.sed makes the transaction's own marker first-write too, so exactly one
// of the two inserts wins, and PostgreSQL makes the tombstone's insert wait for a transaction that
// has already inserted the marker and not yet finished:
//   - the tombstone is in: the transaction rolled back, or never reached its marker; it can no
//     longer commit (its marker would conflict), so dropping the message loses nothing;
//   - the tombstone lost to the marker: the transaction committed; forward the message;
//   - the key holds a tombstone already (another delivery settled it): drop the message.
// A transaction that lost to a tombstone fails as a whole, and its caller sees a failed write.

package pubsub

import (
	"context"
	"strconv"

	"github.com/cenkalti/backoff/v4"

	"github.com/dapr/components-contrib/state"
)

const (
	// The value a settled, rolled-back marker key holds (JSON text, as the state store keeps it).
	outboxTombstone = "rolled-back"
	// Lookups of the marker before settling: the first comes 100 ms after the message reached the
	// topic, the second 500 ms later. A transaction is settled as rolled back only if it has not
	// inserted its marker by then; a live one that slow fails and is retried by its caller.
	outboxLookupsBeforeSettling = 2
	// How long a tombstone stays: far past the longest a transaction may run (the state store's
	// `timeout`, 20 s by default), so no late marker can replace an expired tombstone.
	outboxTombstoneTTLSeconds = 3600
)

// isOutboxTombstone tells a tombstone from a committed marker in a lookup's answer.
func isOutboxTombstone(data []byte) bool {
	return string(data) == strconv.Quote(outboxTombstone)
}

// settleOutboxState is the lookup's answer when the marker was not found (or held a tombstone): nil
// forwards the message, `missing` retries the lookup, backoff.Permanent(missing) drops it as rolled back.
func settleOutboxState(ctx context.Context, store state.Store, key string, lookups int, missing error) error {
	if lookups < outboxLookupsBeforeSettling {
		return missing
	}
	setErr := store.Set(ctx, &state.SetRequest{
		Key:      key,
		Value:    outboxTombstone,
		Options:  state.SetStateOption{Concurrency: state.FirstWrite},
		Metadata: map[string]string{"ttlInSeconds": strconv.Itoa(outboxTombstoneTTLSeconds)},
	})
	if setErr == nil {
		return backoff.Permanent(missing)
	}
	// The insert lost, or failed: what the key holds now decides.
	resp, err := store.Get(ctx, &state.GetRequest{Key: key})
	if err != nil {
		return err
	}
	if resp == nil || len(resp.Data) == 0 {
		// Neither marker nor tombstone: the insert failed for another reason. Look again.
		return setErr
	}
	if isOutboxTombstone(resp.Data) {
		return backoff.Permanent(missing)
	}
	return nil
}
