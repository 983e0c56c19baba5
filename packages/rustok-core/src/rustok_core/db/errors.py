"""Map database exceptions to coded errors."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from rustok_core.errors import Conflict, RustokError, Validation

_UNIQUE_VIOLATION = "23505"
_FOREIGN_KEY_VIOLATION = "23503"
_CHECK_VIOLATION = "23514"
_NOT_NULL_VIOLATION = "23502"


def translate_db_error(exc: BaseException) -> RustokError | None:
    """Return the coded error for a known database failure, ``None`` otherwise."""
    if isinstance(exc, StaleDataError):
        return Conflict("the record was changed by someone else; reload and retry")
    if isinstance(exc, IntegrityError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None)
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        if sqlstate == _UNIQUE_VIOLATION:
            return Conflict("a record with the same unique value already exists", constraint=constraint)
        if sqlstate == _FOREIGN_KEY_VIOLATION:
            return Validation("a referenced record does not exist", constraint=constraint)
        if sqlstate in (_CHECK_VIOLATION, _NOT_NULL_VIOLATION):
            return Validation("a value breaks a database constraint", constraint=constraint)
    return None
