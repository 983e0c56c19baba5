"""Demo data: users of every built-in role, then each module's ``rustok_demo_data``."""

from __future__ import annotations

import inspect
import uuid
from dataclasses import dataclass, field

from rustok_core.context import AppContext, TenantContext

DEMO_PASSWORD = "demo-password-2026"
DEMO_ROLES = ("admin", "manager", "editor", "customer")


@dataclass
class DemoData:
    tenant: TenantContext
    password: str
    users: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    """Role → (user id, email)."""


async def seed_demo(ctx: AppContext, tenant: TenantContext, *, password: str = DEMO_PASSWORD) -> DemoData:
    """Seed ``tenant`` with demo users and every installed module's demo records."""
    auth = ctx.state["auth.service"]
    data = DemoData(tenant=tenant, password=password)
    for role in DEMO_ROLES:
        email = f"{role}@{tenant.slug}.demo.example"
        user = await auth.create_user(
            tenant.id,
            email=email,
            password=password,
            display_name=f"{role.title()} of {tenant.name}",
            verified=True,
            role=role,
        )
        data.users[role] = (user.id, user.email)
    for module in ctx.registry:
        if ctx.registry.implements(module.slug, "rustok_demo_data"):
            result = ctx.registry.call_module(module.slug, "rustok_demo_data", ctx=ctx, tenant_id=tenant.id)
            if inspect.isawaitable(result):
                await result
    return data
