# Applied to dapr 1.18.1's pkg/runtime/pubsub/outbox.go before daprd is built. Three changes to the
# handler of the outbox's internal topic, found running this project (see README, "Dapr's
# transactional outbox"):
#
# 1. It retries its state lookup with a backoff.ExponentialBackOff literal that leaves `Stop` at
#    zero. Past MaxElapsedTime (10 s), NextBackOff then returns 0 instead of backoff.Stop, so the
#    retry never gives up: for a transaction that rolled back (an ETag or first-write conflict),
#    the handler looks up the missing state in a tight loop forever, burning a core, hammering
#    PostgreSQL (~30,000 queries/s measured here) and blocking that Kafka partition for good;
#    outboxDiscardWhenMissingState never takes effect. Setting Stop restores the 10 s limit.
/RandomizationFactor: 0\.1,/a\
				Stop:                backoff.Stop,
#
# 2. With outboxDiscardWhenMissingState, every failed lookup is taken for missing state and the
#    event is dropped, even a committed one:
#    - a lookup whose context was cancelled (the sidecar shutting down, a consumer-group rebalance,
#      a component hot reload);
#    - a lookup that failed because the state store was unreachable for the 10 s of retries (the
#      chaos test, test/chaos-infrastructure.test.ts, lost an order this way when PostgreSQL was
#      killed right after the order's transaction committed: "failed to connect ... the database
#      system is starting up, discarding message").
#    Only a lookup that ran its course and found no state (the transaction rolled back) may
#    discard; any other failure returns the error, so the message is delivered again.
s/if c\.outboxDiscardWhenMissingState {/if c.outboxDiscardWhenMissingState \&\& ctx.Err() == nil \&\& strings.HasSuffix(err.Error(), "outbox state not found") {/
#
# 3. The handler sleeps a fixed 1 s before its first state lookup (defaultStateScanDelay): the
#    message reaches the internal topic before the transaction commits, and the sleep gives the
#    commit time. That second is on the critical path of every order (order's commit -> the saga
#    starting: p50 1114 ms measured here) and caps each partition at one message a second, since
#    the consumer handles a partition's messages one at a time (dapr/dapr#8233). The commit follows
#    the publish within milliseconds, and a lookup that comes too early is retried by the backoff
#    below (0.5 s, then up to 10 s), so waiting 100 ms first loses nothing.
s/^\(\s*defaultStateScanDelay\s*=\s*\)time\.Second \* 1$/\1time.Millisecond * 100/
