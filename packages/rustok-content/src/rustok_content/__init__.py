"""Content nodes with translations, rendered bodies, revisions, categories, tags, SEO meta and media."""
