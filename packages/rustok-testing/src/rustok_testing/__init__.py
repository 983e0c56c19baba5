"""pytest plugin for RusToK: real PostgreSQL, booted platforms, clients, tenants.

Installed as a ``pytest11`` entry point, so its fixtures are available wherever the
distribution is installed. Start reading at :mod:`rustok_testing.plugin`.
"""

from rustok_testing.client import RustokClient
from rustok_testing.services import require_service

__all__ = ["RustokClient", "require_service"]
