"""The commerce module object: everything it contributes to the platform."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click
from sqlalchemy.ext.asyncio import AsyncSession

from rustok_core import ModuleInfo, ModuleKind, hookimpl
from rustok_core.context import AppContext
from rustok_core.events import DomainEvent
from rustok_core.graphql import GraphQLContribution
from rustok_core.index import PRODUCT, ProductDocument
from rustok_core.permissions import Permission
from rustok_core.rest import RestRoute


class CommerceModule:
    @hookimpl
    def rustok_module(self) -> ModuleInfo:
        return ModuleInfo(
            slug="commerce",
            name="Commerce",
            description=(
                "Catalog, multi-currency prices, multi-location inventory with reservations, "
                "carts, checkout and orders."
            ),
            version=version("rustok-commerce"),
            kind=ModuleKind.OPTIONAL,
            dependencies=(),
        )

    @hookimpl
    def rustok_migrations(self) -> Path:
        return Path(__file__).parent / "migrations" / "versions"

    @hookimpl
    def rustok_graphql(self) -> GraphQLContribution:
        from rustok_commerce.graphql import contribution

        return contribution()

    @hookimpl
    def rustok_routes(self) -> Sequence[RestRoute]:
        from rustok_commerce.rest import routes

        return routes()

    @hookimpl
    def rustok_provide(self, ctx: AppContext) -> Mapping[type[Any], object]:
        from rustok_commerce.services.payments import ManualPaymentProvider
        from rustok_commerce.services.providers import CommerceProviders
        from rustok_commerce.services.shipping import FlatRateShipping
        from rustok_commerce.services.tax import TaxTableProvider

        providers = CommerceProviders()
        providers.add_shipping(FlatRateShipping())
        providers.add_tax(TaxTableProvider(), use=True)
        providers.add_payment(ManualPaymentProvider())
        return {CommerceProviders: providers}

    @hookimpl
    def rustok_permissions(self) -> Sequence[Permission]:
        from rustok_commerce.permissions import PERMISSIONS

        return PERMISSIONS

    @hookimpl
    def rustok_cli(self, cli: click.Group) -> None:
        from rustok_commerce.orders_cli import add_commands

        add_commands(cli)

    @hookimpl
    def rustok_event_types(self) -> Sequence[type[DomainEvent]]:
        from rustok_commerce.events import EVENT_TYPES

        return EVENT_TYPES

    @hookimpl
    async def rustok_startup(self, ctx: AppContext) -> None:
        from rustok_commerce.services.price_windows import watcher_of

        watcher_of(ctx).start()

    @hookimpl
    async def rustok_shutdown(self, ctx: AppContext) -> None:
        from rustok_commerce.services.price_windows import watcher_of

        await watcher_of(ctx).stop()

    @hookimpl
    async def rustok_index_documents(
        self,
        ctx: AppContext,
        session: AsyncSession,
        tenant_id: uuid.UUID,
        entity_type: str,
        entity_ids: Sequence[uuid.UUID],
    ) -> list[ProductDocument] | None:
        if entity_type != PRODUCT:
            return None
        from rustok_commerce.index_documents import documents

        return await documents(ctx, session, tenant_id, entity_ids)

    @hookimpl
    async def rustok_index_entity_ids(
        self, session: AsyncSession, entity_type: str, after: uuid.UUID | None, limit: int
    ) -> list[uuid.UUID] | None:
        if entity_type != PRODUCT:
            return None
        from rustok_commerce.index_documents import entity_ids

        return await entity_ids(session, after, limit)

    @hookimpl
    async def rustok_demo_data(self, ctx: AppContext, tenant_id: uuid.UUID) -> None:
        from rustok_commerce.demo import seed

        await seed(ctx, tenant_id)


module = CommerceModule()
