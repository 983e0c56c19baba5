"""Posts and threaded comments with moderation, built on content nodes."""
