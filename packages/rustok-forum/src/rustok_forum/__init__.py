"""Forum categories, topics and replies with counts, pinning, locking and moderation, built on content nodes."""
