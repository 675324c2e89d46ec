# Applied to dapr 1.18.1's pkg/runtime/pubsub/outbox.go before daprd is built.
#
# The outbox's internal-topic handler retries its state lookup with a
# backoff.ExponentialBackOff literal that leaves the `Stop` field at zero. Past
# MaxElapsedTime (10 s), NextBackOff then returns 0 instead of backoff.Stop, so
# backoff.Retry never gives up: for a transaction that rolled back (an ETag or
# first-write conflict), the handler looks up the missing state in a tight loop
# forever, burning a core, hammering PostgreSQL (~30,000 queries/s measured
# here) and blocking that Kafka partition for good; outboxDiscardWhenMissingState
# never takes effect. Setting Stop restores the documented 10 s limit.
/RandomizationFactor: 0\.1,/a\
				Stop:                backoff.Stop,
