"""Permissions are declared by modules as ``resource:action`` pairs.

``manage`` on a resource implies every action on it. Scopes (``all`` / ``own``) are
attached when a permission is granted to a role; checks live in the rbac module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PERMISSION_RE = re.compile(r"^[a-z][a-z0-9_.]*:[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Permission:
    """A permission a module declares, e.g. ``Permission("tenant_modules", "manage")``."""

    resource: str
    action: str
    description: str = ""

    def __post_init__(self) -> None:
        if not PERMISSION_RE.match(self.name):
            raise ValueError(f"invalid permission {self.name!r}: expected 'resource:action'")

    @property
    def name(self) -> str:
        return f"{self.resource}:{self.action}"

    @classmethod
    def parse(cls, text: str, description: str = "") -> Permission:
        resource, _, action = text.partition(":")
        return cls(resource, action, description)

    def __str__(self) -> str:
        return self.name
