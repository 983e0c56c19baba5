"""RusToK tenant module: tenants, per-tenant module toggles and tenant resolution."""
