"""Who is calling: the :class:`Principal` attached to an authenticated request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class PrincipalKind(StrEnum):
    USER = "user"
    API_KEY = "api_key"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller, always bound to one tenant.

    Users get their permissions from their roles (checked by the rbac module); API
    keys carry a fixed permission set chosen when the key was created.
    """

    kind: PrincipalKind
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None = None
    api_key_id: uuid.UUID | None = None
    session_id: uuid.UUID | None = None
    permissions: frozenset[str] | None = None

    @property
    def is_user(self) -> bool:
        return self.kind is PrincipalKind.USER

    @property
    def identity(self) -> str:
        """A stable label for rate limits and logs: ``user:<id>`` or ``key:<id>``."""
        if self.kind is PrincipalKind.USER:
            return f"user:{self.user_id}"
        return f"key:{self.api_key_id}"
