"""GraphQL: schema composition, guards, validation limits, the HTTP endpoint."""
