"""Permissions: declared by modules as ``resource:action``, granted to roles with a scope.

``manage`` on a resource implies every action on it. A grant's scope is ``all`` (any
record of the tenant) or ``own`` (records the caller owns); resolvers that touch a
record pass its owner to the check. Each permission may name the built-in roles that
get it by default (``grants``); ``admin`` and ``super_admin`` get every tenant
permission, and ``platform`` permissions only ever go to ``super_admin``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

PERMISSION_RE = re.compile(r"^[a-z][a-z0-9_.]*:[a-z][a-z0-9_]*\Z")
Scope = Literal["all", "own"]
SCOPES: tuple[Scope, ...] = ("all", "own")
MANAGE = "manage"

SUPER_ADMIN = "super_admin"
ADMIN = "admin"
BUILTIN_ROLES = (SUPER_ADMIN, ADMIN, "manager", "editor", "customer")


@dataclass(frozen=True)
class Permission:
    """A permission a module declares, e.g. ``Permission("blog_posts", "update", grants={"editor": "all"})``."""

    resource: str
    action: str
    description: str = ""
    grants: Mapping[str, Scope] | tuple[tuple[str, Scope], ...] = field(default_factory=tuple)
    platform: bool = False
    """Platform-wide (e.g. creating tenants): granted to ``super_admin`` only."""

    def __post_init__(self) -> None:
        if not PERMISSION_RE.match(self.name):
            raise ValueError(f"invalid permission {self.name!r}: expected 'resource:action'")
        items = self.grants.items() if isinstance(self.grants, Mapping) else self.grants
        normalized = tuple(sorted((str(role), scope) for role, scope in items))
        for role, scope in normalized:
            if role not in BUILTIN_ROLES:
                raise ValueError(f"permission {self.name}: unknown built-in role {role!r}")
            if scope not in SCOPES:
                raise ValueError(f"permission {self.name}: scope must be 'all' or 'own', got {scope!r}")
        object.__setattr__(self, "grants", normalized)

    @property
    def name(self) -> str:
        return f"{self.resource}:{self.action}"

    @property
    def role_grants(self) -> tuple[tuple[str, Scope], ...]:
        """The built-in roles that get this permission by default, with their scope."""
        return cast("tuple[tuple[str, Scope], ...]", self.grants)

    @classmethod
    def parse(cls, text: str, description: str = "") -> Permission:
        resource, _, action = text.partition(":")
        return cls(resource, action, description)

    def __str__(self) -> str:
        return self.name


def implied_by(permission: str) -> tuple[str, str]:
    """The names that satisfy ``permission``: itself and ``<resource>:manage``."""
    resource, _, _ = permission.partition(":")
    return permission, f"{resource}:{MANAGE}"


def best_scope(held: Mapping[str, Scope], permission: str) -> Scope | None:
    """The widest scope in ``held`` that satisfies ``permission`` (``None``: not held)."""
    scopes = [held[name] for name in implied_by(permission) if name in held]
    if not scopes:
        return None
    return "all" if "all" in scopes else "own"


class PermissionCatalog:
    """Every permission declared by the installed modules and the server."""

    def __init__(self, declared: Iterable[tuple[str, Permission]] = ()) -> None:
        self._by_name: dict[str, Permission] = {}
        self._owner: dict[str, str] = {}
        for owner, permission in declared:
            self.add(owner, permission)

    def add(self, owner: str, permission: Permission) -> None:
        existing = self._owner.get(permission.name)
        if existing is not None and existing != owner:
            raise ValueError(f"permission {permission.name} is declared by both '{existing}' and '{owner}'")
        self._by_name[permission.name] = permission
        self._owner[permission.name] = owner

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Permission]:
        return iter(sorted(self._by_name.values(), key=lambda p: p.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def owner(self, name: str) -> str | None:
        return self._owner.get(name)

    def get(self, name: str) -> Permission | None:
        return self._by_name.get(name)

    def is_known(self, name: str) -> bool:
        """``name`` was declared, or is ``<resource>:manage`` of a declared resource."""
        if name in self._by_name:
            return True
        resource, _, action = name.partition(":")
        return action == MANAGE and any(p.resource == resource for p in self._by_name.values())

    def grants_of_builtin(self, role: str) -> dict[str, Scope]:
        """What a built-in role holds."""
        if role == SUPER_ADMIN:
            return {p.name: "all" for p in self}
        if role == ADMIN:
            return {p.name: "all" for p in self if not p.platform}
        held: dict[str, Scope] = {}
        for permission in self:
            for grantee, scope in permission.role_grants:
                if grantee == role and not permission.platform:
                    held[permission.name] = scope
        return held


def _holds(held: Mapping[str, Scope], name: str, scope: Scope) -> bool:
    have = best_scope(held, name)
    return have is not None and not (scope == "all" and have == "own")


def missing_grants(
    held: Mapping[str, Scope], wanted: Mapping[str, Scope], catalog: PermissionCatalog | None = None
) -> list[str]:
    """Permissions of ``wanted`` that ``held`` does not cover (scope ``all`` covers ``own``).

    Used against escalation: nobody grants what they do not hold. With ``catalog``, an
    undeclared ``<resource>:manage`` (accepted because it implies every action) is
    covered by holding every declared action of the resource, since nobody holds the
    undeclared name itself.
    """
    missing = []
    for name, scope in wanted.items():
        if _holds(held, name, scope):
            continue
        resource, _, action = name.partition(":")
        if catalog is not None and action == MANAGE and name not in catalog:
            actions = [p.name for p in catalog if p.resource == resource]
            if actions and all(_holds(held, a, scope) for a in actions):
                continue
        missing.append(name)
    return sorted(missing)
