"""RusToK stream module: NATS JetStream as the target of the events relay."""
