"""RusToK index: the read model (CQRS read path) and the storefront reads served from it."""
