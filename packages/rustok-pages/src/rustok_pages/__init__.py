"""Pages in a slug tree, menus and validated typed blocks, built on content nodes."""
