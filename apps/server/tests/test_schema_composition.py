"""Composing module schemas: conflicts are boot errors that name the modules."""

from __future__ import annotations

import uuid

import pytest
from ariadne import QueryType
from graphql import graphql

from rustok_core.context import RequestContext, TenantContext
from rustok_core.graphql import GraphQLContribution
from rustok_core.registry import ModuleRegistry
from rustok_server.graphql.schema import SchemaCompositionError, compose_schema, root_fields
from rustok_tenant.module import module as tenant_module
from rustok_testing.samples import SampleModule, make_alpha, make_beta


def compose(*modules: object):
    return compose_schema(ModuleRegistry.from_plugins([tenant_module, *modules]))


def with_sdl(slug: str, sdl: str, *bindables: object, dependencies: tuple[str, ...] = ()) -> SampleModule:
    return SampleModule(slug, dependencies=dependencies, graphql=GraphQLContribution((sdl,), bindables))


def test_module_fields_extend_the_root_types():
    composed = compose(make_alpha(), make_beta())
    query_fields = composed.schema.query_type.fields
    assert {"alphaEcho", "betaHello", "currentTenant", "moduleRegistry", "serverInfo"} <= set(query_fields)
    assert "alphaPing" in composed.schema.mutation_type.fields
    assert composed.owner_of("Query", "alphaEcho") == "alpha"
    assert composed.owner_of("AlphaNode", "betaNote") == "beta"
    assert composed.owner_of("Query", "currentTenant") == "tenant"
    assert composed.owner_of("Mutation", "toggleModule") == "server"


def test_the_same_root_field_from_two_modules_is_refused_naming_both():
    first = with_sdl("first", "extend type Query { shared: String @public }")
    second = with_sdl("second", "extend type Query { shared: String @public }")
    with pytest.raises(SchemaCompositionError) as excinfo:
        compose(first, second)
    message = str(excinfo.value)
    assert "Query.shared" in message
    assert "'first'" in message and "'second'" in message


def test_a_module_redefining_a_server_field_is_refused():
    thief = with_sdl("thief", "extend type Query { moduleRegistry: String @public }")
    with pytest.raises(SchemaCompositionError, match=r"Query.moduleRegistry .*base schema.*'thief'"):
        compose(thief)


def test_two_modules_defining_the_same_type_is_refused():
    first = with_sdl("first", "type Widget { id: ID! }\nextend type Query { firstWidget: Widget @public }")
    second = with_sdl("second", "type Widget { id: ID! }\nextend type Query { secondWidget: Widget @public }")
    expected = "type Widget is defined by both module 'first' and module 'second'"
    with pytest.raises(SchemaCompositionError, match=expected):
        compose(first, second)


def test_root_fields_without_declared_access_are_refused():
    sloppy = with_sdl("sloppy", "extend type Query { open: String }\nextend type Mutation { change: Boolean }")
    with pytest.raises(SchemaCompositionError) as excinfo:
        compose(sloppy)
    assert "Query.open (module 'sloppy')" in str(excinfo.value)
    assert "Mutation.change (module 'sloppy')" in str(excinfo.value)


def test_a_field_cannot_be_both_public_and_restricted():
    confused = with_sdl("confused", 'extend type Query { both: String @public @requires(permission: "x:read") }')
    with pytest.raises(SchemaCompositionError, match="declares more than one of"):
        compose(confused)


def test_invalid_sdl_names_the_module():
    broken = with_sdl("broken", "extend type Query { oops( }")
    with pytest.raises(SchemaCompositionError, match="module 'broken': invalid SDL"):
        compose(broken)


def test_every_root_field_declares_its_access():
    composed = compose(make_alpha(), make_beta())
    declared = {(t, f): a for t, f, a in root_fields(composed)}
    assert declared[("Query", "alphaSecret")].permission == "alpha:read"
    assert declared[("Mutation", "toggleModule")].permission == "modules:manage"
    assert declared[("Query", "currentTenant")].public
    assert declared[("Query", "me")].authenticated
    assert all(access.declared for access in declared.values())


async def test_guards_refuse_disabled_modules_before_the_resolver_runs():
    calls: list[str] = []
    query = QueryType()

    @query.field("countedField")
    def resolve_counted(*_: object) -> str:
        calls.append("called")
        return "ran"

    counted = with_sdl("counted", "extend type Query { countedField: String @public }", query)
    composed = compose(counted)

    def context(enabled: frozenset[str]) -> RequestContext:
        tenant = TenantContext(
            id=uuid.uuid4(),
            slug="t",
            name="T",
            default_locale="en",
            locales=("en",),
            is_active=True,
            enabled_modules=enabled,
        )
        return RequestContext(app=None, conn=None, tenant=tenant)  # type: ignore[arg-type]

    disabled = await graphql(composed.schema, "{ countedField }", context_value=context(frozenset({"tenant"})))
    assert disabled.errors and disabled.errors[0].original_error.code == "MODULE_DISABLED"
    assert calls == []

    enabled_ctx = context(frozenset({"tenant", "counted"}))
    enabled = await graphql(composed.schema, "{ countedField }", context_value=enabled_ctx)
    assert enabled.data == {"countedField": "ran"}
    assert calls == ["called"]
