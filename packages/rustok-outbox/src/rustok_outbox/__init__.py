"""RusToK events module: outbox, relay, DLQ, receipts, in-memory transport."""
