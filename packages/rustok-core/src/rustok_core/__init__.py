"""RusToK core: the contracts every module and the server share.

Nothing here owns a table. Start reading at :mod:`rustok_core.hookspecs` (the module
contract), then :mod:`rustok_core.registry` (how modules are found and ordered) and
:mod:`rustok_core.db` (sessions that enforce tenant isolation).
"""

from rustok_core.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    Internal,
    ModuleDisabled,
    NotFound,
    RateLimited,
    RustokError,
    Unauthenticated,
    Validation,
)
from rustok_core.hookspecs import hookimpl
from rustok_core.ids import generate_id, parse_id
from rustok_core.module import ModuleInfo, ModuleKind

__all__ = [
    "Conflict",
    "ErrorCode",
    "Forbidden",
    "Internal",
    "ModuleDisabled",
    "ModuleInfo",
    "ModuleKind",
    "NotFound",
    "RateLimited",
    "RustokError",
    "Unauthenticated",
    "Validation",
    "generate_id",
    "hookimpl",
    "parse_id",
]
