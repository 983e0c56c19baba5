"""The commerce REST routes (under ``/api/v1/commerce/``): one module per area, each with ``routes()``."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from rustok_core.rest import RestRoute


def routes() -> list[RestRoute]:
    found: list[RestRoute] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        found.extend(import_module(f"{__name__}.{info.name}").routes())
    return found
