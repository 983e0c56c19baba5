"""Compose the GraphQL schema from the base SDL and every module's contribution.

Composition rules:

* every module's SDL is parsed on its own first, so errors name the module;
* a type or a field defined by two owners (the server or modules) is a boot error —
  Ariadne would otherwise let the later binding silently win;
* every root field declares its access with ``@public`` or ``@requires``;
* root fields of an optional module, and fields a module adds to another owner's
  types, are wrapped by a guard that answers ``MODULE_DISABLED`` for tenants that
  have the module off, and checks the declared permission, before the resolver runs;
* ``@storefrontCached`` marks public ``Query`` fields whose answers may be cached per
  tenant (see :mod:`rustok_server.graphql.cacheable`); anywhere else it is a boot error.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from ariadne import make_executable_schema
from ariadne.types import SchemaBindable
from ariadne.validation.query_cost import cost_directive
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLField,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    default_field_resolver,
    parse,
)

from rustok_core.context import RequestContext
from rustok_core.errors import BootError, ModuleDisabled
from rustok_core.graphql import GraphQLContribution
from rustok_core.interfaces import Authorizer
from rustok_core.module import ModuleKind
from rustok_core.permissions import PermissionCatalog
from rustok_core.registry import ModuleRegistry
from rustok_server.graphql import platform
from rustok_server.graphql.scalars import SCALARS

SERVER = "server"
ROOT_TYPES = ("Query", "Mutation", "Subscription")


class SchemaCompositionError(BootError):
    """Module schemas cannot be merged (names the modules and fields involved)."""


@dataclass(frozen=True)
class FieldAccess:
    """How a field may be reached: which owner added it and what access it declared."""

    owner: str
    public: bool = False
    permission: str | None = None
    authenticated: bool = False
    cached: bool = False
    """Declared ``@storefrontCached``."""

    @property
    def declared(self) -> bool:
        return self.public or self.authenticated or self.permission is not None


@dataclass
class ComposedSchema:
    schema: GraphQLSchema
    fields: dict[tuple[str, str], FieldAccess] = field(default_factory=dict)
    type_owners: dict[str, str] = field(default_factory=dict)

    def owner_of(self, type_name: str, field_name: str) -> str | None:
        access = self.fields.get((type_name, field_name))
        return access.owner if access else None

    @property
    def cached_fields(self) -> frozenset[str]:
        """``Query`` fields declared ``@storefrontCached``."""
        return frozenset(name for (type_name, name), access in self.fields.items() if access.cached)


def base_type_defs() -> str:
    return files("rustok_server.graphql").joinpath("base.graphql").read_text(encoding="utf-8")


def server_contribution() -> GraphQLContribution:
    """The server's own SDL and bindables: base schema, module registry, accounts."""
    from rustok_server.auth import graphql as auth_graphql

    auth_sdl = files("rustok_server.auth.graphql").joinpath("schema.graphql").read_text(encoding="utf-8")
    return GraphQLContribution(
        type_defs=(base_type_defs(), cost_directive, auth_sdl),
        bindables=(*SCALARS, *platform.BINDABLES, *auth_graphql.BINDABLES),
    )


def compose_schema(registry: ModuleRegistry, catalog: PermissionCatalog | None = None) -> ComposedSchema:
    """Build the executable schema with guards applied; raise on any conflict.

    With ``catalog``, every ``@requires`` must name a declared permission.
    """
    server = server_contribution()
    sources: list[tuple[str, str]] = [(SERVER, sdl) for sdl in server.type_defs]
    bindables: list[SchemaBindable] = list(server.bindables)
    for module, contribution in registry.call("rustok_graphql"):
        if not isinstance(contribution, GraphQLContribution):
            raise SchemaCompositionError(f"module '{module.slug}': rustok_graphql() must return a GraphQLContribution")
        sources.extend((module.slug, sdl) for sdl in contribution.type_defs)
        bindables.extend(contribution.bindables)

    composed_fields: dict[tuple[str, str], FieldAccess] = {}
    type_owners: dict[str, str] = {}
    for owner, sdl in sources:
        document = _parse(owner, sdl)
        _collect(owner, document, composed_fields, type_owners)

    try:
        schema = make_executable_schema([sdl for _, sdl in sources], *bindables, convert_names_case=True)
    except (GraphQLError, TypeError, ValueError) as exc:
        raise SchemaCompositionError(f"cannot build the GraphQL schema: {exc}") from exc

    composed = ComposedSchema(schema, composed_fields, type_owners)
    _check_root_access(composed)
    _check_cached_fields(composed)
    if catalog is not None:
        _check_permissions_exist(composed, catalog)
    _apply_guards(composed, registry)
    return composed


def _parse(owner: str, sdl: str) -> DocumentNode:
    try:
        return parse(sdl)
    except GraphQLError as exc:
        raise SchemaCompositionError(f"{_label(owner)}: invalid SDL: {exc}") from exc


def _label(owner: str) -> str:
    return "the server's base schema" if owner == SERVER else f"module '{owner}'"


def _collect(
    owner: str,
    document: DocumentNode,
    fields: dict[tuple[str, str], FieldAccess],
    type_owners: dict[str, str],
) -> None:
    for definition in document.definitions:
        if isinstance(definition, TypeDefinitionNode):
            name = definition.name.value
            if name in type_owners:
                raise SchemaCompositionError(
                    f"type {name} is defined by both {_label(type_owners[name])} and {_label(owner)}"
                )
            type_owners[name] = owner
        if not isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            continue
        type_name = definition.name.value
        for field_node in definition.fields or ():
            key = (type_name, field_node.name.value)
            if key in fields:
                raise SchemaCompositionError(
                    f"field {type_name}.{key[1]} is defined by both {_label(fields[key].owner)} and {_label(owner)}"
                )
            public = False
            authenticated = False
            cached = False
            permission = None
            for directive in field_node.directives or ():
                if directive.name.value == "public":
                    public = True
                elif directive.name.value == "storefrontCached":
                    cached = True
                elif directive.name.value == "authenticated":
                    authenticated = True
                elif directive.name.value == "requires":
                    for argument in directive.arguments or ():
                        if argument.name.value == "permission" and isinstance(argument.value, StringValueNode):
                            permission = argument.value.value
            if sum((public, authenticated, permission is not None)) > 1:
                raise SchemaCompositionError(
                    f"{_label(owner)}: field {type_name}.{key[1]} declares more than one of "
                    "@public, @authenticated and @requires"
                )
            fields[key] = FieldAccess(
                owner=owner, public=public, permission=permission, authenticated=authenticated, cached=cached
            )


def _check_root_access(composed: ComposedSchema) -> None:
    missing = [
        f"{type_name}.{field_name} ({_label(access.owner)})"
        for (type_name, field_name), access in sorted(composed.fields.items())
        if type_name in ROOT_TYPES and not access.declared
    ]
    if missing:
        raise SchemaCompositionError(
            "root fields must declare @public, @authenticated or @requires(permission: ...): " + ", ".join(missing)
        )


def _check_cached_fields(composed: ComposedSchema) -> None:
    # A cached answer is shared by every caller of the tenant: only public reads qualify.
    wrong = [
        f"{type_name}.{field_name} ({_label(access.owner)})"
        for (type_name, field_name), access in sorted(composed.fields.items())
        if access.cached and (type_name != "Query" or not access.public)
    ]
    if wrong:
        raise SchemaCompositionError("@storefrontCached is only for Query fields that are @public: " + ", ".join(wrong))


def _check_permissions_exist(composed: ComposedSchema, catalog: PermissionCatalog) -> None:
    unknown = [
        f"{type_name}.{field_name} ({_label(access.owner)}) requires '{access.permission}'"
        for (type_name, field_name), access in sorted(composed.fields.items())
        if access.permission is not None and not catalog.is_known(access.permission)
    ]
    if unknown:
        raise SchemaCompositionError("fields require permissions nobody declares: " + "; ".join(unknown))


def _apply_guards(composed: ComposedSchema, registry: ModuleRegistry) -> None:
    optional = {m.slug for m in registry if m.info.kind is ModuleKind.OPTIONAL}
    for (type_name, field_name), access in composed.fields.items():
        graphql_type = composed.schema.type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        gql_field = graphql_type.fields.get(field_name)
        if gql_field is None:
            continue
        is_root = type_name in ROOT_TYPES
        foreign = composed.type_owners.get(type_name) != access.owner
        module = access.owner if access.owner in optional and (is_root or foreign) else None
        permission = access.permission
        authenticated = access.authenticated
        if module is None and permission is None and not authenticated:
            continue
        gql_field.resolve = guarded_resolver(
            gql_field, module=module, permission=permission, authenticated=authenticated
        )


def guarded_resolver(
    gql_field: GraphQLField, *, module: str | None, permission: str | None, authenticated: bool = False
) -> Callable[..., Any]:
    """Wrap a field's resolver with the module toggle, sign-in and permission checks."""
    resolver = gql_field.resolve or default_field_resolver

    async def guarded(obj: Any, info: GraphQLResolveInfo, **kwargs: Any) -> Any:
        ctx: RequestContext = info.context
        if module is not None:
            tenant = ctx.require_tenant()
            if module not in tenant.enabled_modules:
                raise ModuleDisabled(module)
        if authenticated:
            ctx.require_principal()
        if permission is not None:
            await ctx.app.services.get(Authorizer).authorize(ctx, permission)
        result = resolver(obj, info, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result

    guarded.__wrapped__ = resolver  # type: ignore[attr-defined]
    return guarded


def root_fields(composed: ComposedSchema) -> Iterable[tuple[str, str, FieldAccess]]:
    """Every root field with its declared access (used by tests and docs)."""
    for (type_name, field_name), access in sorted(composed.fields.items()):
        if type_name in ROOT_TYPES:
            yield type_name, field_name, access
