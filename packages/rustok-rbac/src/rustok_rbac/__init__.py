"""RusToK rbac module: roles, grants, assignments and permission checks."""
