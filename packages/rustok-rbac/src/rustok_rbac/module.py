"""The rbac module object: roles, grants and the checks behind every API."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.interfaces import Authorizer, RoleAssigner
from rustok_core.permissions import Permission


class RbacModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="rbac",
            name="Roles and permissions",
            description="Roles, permission grants with scopes, role assignments and permission checks.",
            version=version("rustok-rbac"),
            kind=ModuleKind.CORE,
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_rbac.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_rbac.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_rbac.services import AccessControl

        access = ctx.services.get(Authorizer)
        assert isinstance(access, AccessControl)
        await access.create_tenant_role(
            tenant_id,
            slug="curator",
            name="Curator",
            description="Reads roles and users (demo role)",
            grants={"roles:read": "all", "users:read": "all"},
        )

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        from rustok_rbac.services import AccessControl

        access = AccessControl(ctx)
        return {Authorizer: access, RoleAssigner: access}


module = RbacModule()
