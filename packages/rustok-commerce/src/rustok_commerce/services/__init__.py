"""The commerce services: every write of the module goes through them."""
