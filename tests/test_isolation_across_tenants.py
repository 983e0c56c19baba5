"""Scenario: from tenant A, try every API on tenant B's data — nothing found, nothing changed, nothing leaked.

Two tenants are seeded with every installed module's demo data (``rustok_demo_data``)
plus users, roles, an API key and a session. Then, with tenant A's admin token and
A's API key, every GraphQL query and mutation of the composed schema and every REST
route is called with each of B's ids, slugs, emails and tokens in every argument
that can carry them. The suite is generic over the schema: fields added by later
modules are attacked automatically. It asserts that:

* no response contains a value of B's that the request did not itself send;
* an error for B's value is the same (code and message) as for a value that exists
  nowhere — so error text does not reveal that B's record exists;
* B's rows in every tenant-owned table are byte-for-byte unchanged;
* B's own sessions and keys still work afterwards.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy import text

from rustok_core.db import metadata
from rustok_core.interfaces import TenantDirectory
from rustok_server.app import create_app
from rustok_server.boot import Platform
from rustok_server.seed import seed_demo
from rustok_testing.client import RustokClient

# Sign-in failures and request rates would otherwise throttle this long run.
OVERRIDES = {
    "auth.login_failures_per_email": 1_000_000,
    "auth.login_failures_per_ip": 1_000_000,
    "rustok.rate_limit.enabled": False,
}
ID_ARGS = ("id", "userid", "tenantid", "ownerid", "parentid", "nodeid", "productid", "variantid")
STRING_HINTS = ("slug", "email", "token", "role", "domain", "handle", "key", "name", "code", "sku", "locale")


# Mutations that end the caller's own sign-in by design: each call gets a fresh one.
SELF_ENDING = frozenset({"signOut"})


@dataclass
class Side:
    """One tenant of the experiment and what its callers hold."""

    tenant: Any
    admin_email: str
    password: str
    admin_headers: dict[str, str]
    key_headers: dict[str, str]
    refresh_token: str
    ids: set[str] = field(default_factory=set)
    strings: set[str] = field(default_factory=set)


@dataclass
class World:
    platform: Platform
    client: RustokClient
    a: Side
    b: Side

    async def fresh_admin_headers(self) -> dict[str, str]:
        """A new sign-in of A's admin (for calls that end the caller's session)."""
        signed = await self.platform.ctx.state["auth.service"].sign_in(
            self.a.tenant, email=self.a.admin_email, password=self.a.password, ip=None, user_agent="isolation"
        )
        return {"Authorization": f"Bearer {signed.access_token}", "X-Tenant-ID": self.a.tenant.slug}

    @property
    def secrets(self) -> set[str]:
        """Values only tenant B has (shared ones such as demo role slugs excluded)."""
        return (self.b.ids | self.b.strings) - (self.a.ids | self.a.strings)


async def _side(platform: Platform, client: RustokClient, slug: str) -> Side:
    directory = platform.ctx.services.get(TenantDirectory)
    tenant = await directory.create(slug=slug, name=f"Shop {slug}")
    demo = await seed_demo(platform.ctx, tenant)
    tenant = await directory.get(tenant.id)
    auth = platform.ctx.state["auth.service"]
    _, admin_email = demo.users["admin"]
    signed = await auth.sign_in(tenant, email=admin_email, password=demo.password, ip=None, user_agent="isolation")
    admin_headers = {"Authorization": f"Bearer {signed.access_token}", "X-Tenant-ID": tenant.slug}

    private_role = f"{slug}-only-{secrets.token_hex(3)}"
    created = await client.graphql_data(
        "mutation($slug: String!) { createRole(input: {slug: $slug, name: $slug, "
        'grants: [{permission: "roles:read"}]}) { slug } }',
        {"slug": private_role},
        headers=admin_headers,
    )
    assert created["createRole"]["slug"] == private_role
    every_permission = [p.name for p in platform.ctx.permissions if not p.platform]
    key = await client.graphql_data(
        'mutation($p: [String!]!) { createApiKey(input: {name: "integration", permissions: $p}) '
        "{ key apiKey { id prefix } } }",
        {"p": every_permission},
        headers=admin_headers,
    )
    side = Side(
        tenant=tenant,
        admin_email=admin_email,
        password=demo.password,
        admin_headers=admin_headers,
        key_headers={"Authorization": f"Bearer {key['createApiKey']['key']}", "X-Tenant-ID": tenant.slug},
        refresh_token=signed.refresh_token,
    )
    side.ids |= {str(tenant.id), key["createApiKey"]["apiKey"]["id"]}
    side.ids |= {str(user_id) for user_id, _ in demo.users.values()}
    side.strings |= {tenant.slug, tenant.name, private_role, key["createApiKey"]["apiKey"]["prefix"], *tenant.domains}
    side.strings |= {email for _, email in demo.users.values()}
    side.strings.add(signed.refresh_token)
    # Whatever else B's own admin can see through the API (ids and names of later modules too).
    await _harvest(client, side, platform.schema.schema)
    return side


async def _harvest(client: RustokClient, side: Side, schema: GraphQLSchema) -> None:
    for name, gql_field in schema.query_type.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) for arg in gql_field.args.values()):
            continue
        body = await client.graphql(
            "{ " + name + selection(gql_field.type) + " }", headers=side.admin_headers, expect_status=None
        )
        _collect(body.get("data"), side)


def _collect(value: Any, side: Side, key: str = "") -> None:
    if isinstance(value, dict):
        for child_key, child in value.items():
            _collect(child, side, child_key)
    elif isinstance(value, list):
        for child in value:
            _collect(child, side, key)
    elif isinstance(value, str):
        lowered = key.lower()
        if lowered == "id" or lowered.endswith("id"):
            side.ids.add(value)
        elif any(hint in lowered for hint in ("slug", "email", "domain", "handle", "prefix", "sku")):
            side.strings.add(value)


def selection(output: GraphQLOutputType, depth: int = 0) -> str:
    named = get_named_type(output)
    if is_leaf_type(named):
        return ""
    if not isinstance(named, GraphQLObjectType) or depth > 2:
        return " { __typename }"
    parts = []
    for name, child in named.fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) and arg.default_value is None for arg in child.args.values()):
            continue
        if is_leaf_type(get_named_type(child.type)):
            parts.append(name)
        elif depth < 2:
            parts.append(name + selection(child.type, depth + 1))
    return " { " + " ".join(parts or ["__typename"]) + " }"


def _unwrap(tp: GraphQLInputType) -> tuple[GraphQLInputType, bool, bool]:
    required = isinstance(tp, GraphQLNonNull)
    if required:
        tp = tp.of_type  # type: ignore[union-attr]
    is_list = isinstance(tp, GraphQLList)
    if is_list:
        tp = tp.of_type  # type: ignore[union-attr]
        if isinstance(tp, GraphQLNonNull):
            tp = tp.of_type
    return tp, required, is_list


class Filler:
    """Builds argument values; id-like and name-like slots carry the value under test."""

    def __init__(self, probe: str, kind: str) -> None:
        self.probe = probe
        self.kind = kind  # "id" or "string"
        self.used = False

    def value(self, name: str, tp: GraphQLInputType, *, force: bool) -> Any:
        inner, required, is_list = _unwrap(tp)
        if not (required or force or self._targets(name, inner)):
            return None
        single = self._scalar(name, inner)
        return [single] if is_list else single

    def _targets(self, name: str, tp: GraphQLInputType) -> bool:
        lowered = name.lower()
        if self.kind == "id":
            return isinstance(tp, GraphQLScalarType) and tp.name in ("UUID", "ID") and lowered in ID_ARGS
        return isinstance(tp, GraphQLScalarType) and tp.name == "String" and any(h in lowered for h in STRING_HINTS)

    def _scalar(self, name: str, tp: GraphQLInputType) -> Any:
        lowered = name.lower()
        if isinstance(tp, GraphQLInputObjectType):
            return {
                child_name: child_value
                for child_name, child in tp.fields.items()
                if (child_value := self.value(child_name, child.type, force=False)) is not None
            }
        if isinstance(tp, GraphQLEnumType):
            return next(iter(tp.values))
        if self._targets(name, tp):
            self.used = True
            return self.probe
        if not isinstance(tp, GraphQLScalarType):
            return None
        if tp.name in ("UUID", "ID"):
            return str(uuid.uuid4())
        if tp.name == "Int":
            return 1
        if tp.name == "Float":
            return 1.0
        if tp.name == "Boolean":
            return True
        if tp.name == "DateTime":
            return "2031-01-01T00:00:00+00:00"
        if tp.name == "JSON":
            return {}
        if "password" in lowered:
            return "a long enough password 2026"
        if "email" in lowered:
            return f"probe-{secrets.token_hex(3)}@example.com"
        return "probe"


def calls(schema: GraphQLSchema, probe: str, kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every root field that can carry ``probe``, as (operation, document, variables)."""
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        if root is None:
            continue
        for name, gql_field in root.fields.items():
            filler = Filler(probe, kind)
            variables: dict[str, Any] = {}
            declared = []
            for arg_name, arg in gql_field.args.items():
                value = filler.value(arg_name, arg.type, force=False)
                if value is None:
                    continue
                variables[arg_name] = value
                declared.append(f"${arg_name}: {arg.type}")
            if not filler.used:
                continue
            signature = f"({', '.join(declared)})" if declared else ""
            arguments = f"({', '.join(f'{a}: ${a}' for a in variables)})" if variables else ""
            document = f"{operation}{signature} {{ {name}{arguments}{selection(gql_field.type)} }}"
            yield name, document, variables


def _errors(body: dict[str, Any], value: str) -> list[tuple[str | None, str]]:
    return [
        (e.get("extensions", {}).get("code"), e.get("message", "").replace(value, "<probe>"))
        for e in body.get("errors", [])
    ]


def _control(probe: str, kind: str) -> str:
    """A value shaped like ``probe`` (same characters classes) that exists nowhere."""
    if kind == "id":
        return str(uuid.uuid4())
    shaped = []
    for char in probe:
        if char.islower():
            shaped.append(secrets.choice(string.ascii_lowercase))
        elif char.isupper():
            shaped.append(secrets.choice(string.ascii_uppercase))
        elif char.isdigit():
            shaped.append(secrets.choice(string.digits))
        else:
            shaped.append(char)
    return "".join(shaped)


# Event bookkeeping changes in the background (relays mark events dispatched, handlers
# write receipts): compare what an event is, not where it is in its delivery.
ROW_SHAPE = {
    "sys_events": "(t.id, t.event_type, t.schema_version, t.payload)::text",
    "sys_events_dlq": "(t.id, t.event_type, t.schema_version, t.payload)::text",
}
BOOKKEEPING = frozenset({"event_receipts"})


async def tenant_rows(platform: Platform, tenant_id: uuid.UUID) -> dict[str, list[str]]:
    """A tenant's rows, as text, in every tenant-owned table, and its tenants row."""
    found: dict[str, list[str]] = {}
    async with platform.ctx.db.engine.connect() as conn:
        for table in sorted(metadata.tables.values(), key=lambda t: t.name):
            if "tenant_id" not in table.c or table.name in BOOKKEEPING:
                continue
            shape = ROW_SHAPE.get(table.name, "t::text")
            query = text(f'SELECT {shape} FROM "{table.name}" t WHERE tenant_id = :t ORDER BY 1')
            found[table.name] = list((await conn.execute(query, {"t": tenant_id})).scalars().all())
        tenant_row = (
            await conn.execute(text("SELECT t::text FROM tenants t WHERE id = :t"), {"t": tenant_id})
        ).scalar()
        found["tenants"] = [tenant_row or ""]
    return found


async def tenant_fingerprint(platform: Platform, tenant_id: uuid.UUID) -> dict[str, str]:
    """md5 of tenant B's rows in every tenant-owned table, and of its tenants row."""
    rows = await tenant_rows(platform, tenant_id)
    return {table: hashlib.md5("\n".join(found).encode()).hexdigest() for table, found in rows.items()}


@pytest.fixture(scope="module")
async def world(boot_platform: Any) -> AsyncIterator[World]:
    platform = boot_platform(**OVERRIDES)
    app = create_app(platform)
    async with app.router.lifespan_context(app), RustokClient(app) as client:
        a = await _side(platform, client, f"iso-a-{secrets.token_hex(2)}")
        b = await _side(platform, client, f"iso-b-{secrets.token_hex(2)}")
        yield World(platform, client, a, b)


async def test_every_graphql_field_keeps_tenant_b_out_of_reach(world: World) -> None:
    before = await tenant_fingerprint(world.platform, world.b.tenant.id)
    schema = world.platform.schema.schema
    unique = world.secrets
    probes = [(value, "id") for value in sorted(world.b.ids & unique)]
    probes += [(value, "string") for value in sorted(world.b.strings & unique)]
    attempts = 0
    failures: list[str] = []
    # Mutations that succeeded once created records in A keyed by the probe (e.g. an A
    # account with B's email): repeating them conflicts inside A, which is no leak.
    created_in_a: set[tuple[str, str]] = set()
    for caller in ("admin", "key"):
        headers = world.a.admin_headers if caller == "admin" else world.a.key_headers
        for probe, kind in probes:
            control = _control(probe, kind)
            for name, document, variables in calls(schema, probe, kind):
                attempts += 1
                fresh = name in SELF_ENDING and caller == "admin"
                call_headers = await world.fresh_admin_headers() if fresh else headers
                body = await world.client.graphql(document, variables, headers=call_headers, expect_status=None)
                sent = json.dumps(variables)
                leaked = [s for s in world.secrets if s not in sent and s in json.dumps(body)]
                if leaked:
                    failures.append(f"{caller} {name}({probe!r}) leaked {leaked}: {body}")
                control_vars = json.loads(sent.replace(probe, control))
                call_headers = await world.fresh_admin_headers() if fresh else headers
                control_body = await world.client.graphql(
                    document, control_vars, headers=call_headers, expect_status=None
                )
                if (name, probe) in created_in_a:
                    continue
                if document.startswith("mutation") and not body.get("errors"):
                    created_in_a.add((name, probe))
                if _errors(body, probe) != _errors(control_body, control):
                    failures.append(
                        f"{caller} {name}: B's {kind} answers {_errors(body, probe)} "
                        f"but an unknown one answers {_errors(control_body, control)}"
                    )
    assert attempts > 50, "the schema walk found too few fields to attack"
    # A's credentials worked throughout (otherwise the calls above attacked nothing).
    assert (await world.client.graphql_data("{ me { email } }", headers=world.a.admin_headers))["me"]
    assert (await world.client.graphql_data("{ roles { slug } }", headers=world.a.key_headers))["roles"]
    assert not failures, "\n".join(failures[:20])
    assert await tenant_fingerprint(world.platform, world.b.tenant.id) == before


async def test_every_rest_route_keeps_tenant_b_out_of_reach(world: World) -> None:
    before = await tenant_fingerprint(world.platform, world.b.tenant.id)
    # The GraphQL attack stored some of B's strings in A's own records (a price list
    # named like B's slug): A reading its own rows back is no leak.
    own_rows = await tenant_rows(world.platform, world.a.tenant.id)
    own_text = "\n".join(row for rows in own_rows.values() for row in rows)
    watched = [s for s in world.secrets if s not in own_text]
    failures: list[str] = []
    for mounted in world.platform.mounted_routes:
        route = mounted.route
        for method in sorted((route.methods or set()) - {"HEAD"}):
            for probe in sorted(world.secrets):
                path = mounted.prefix + route.path
                for name, _ in route.path_parameters:
                    path = path.replace(f"{{{name}}}", probe).replace(f"{{{name}:uuid}}", probe)
                for headers in (world.a.admin_headers, world.a.key_headers):
                    response = await world.client.request(method, path, headers=headers, json={"enabled": True})
                    leaked = [s for s in watched if s not in path and s in response.text]
                    if leaked:
                        failures.append(f"{method} {path} leaked {leaked}")
                    if response.status_code < 400 and probe in response.text and route.path_parameters:
                        failures.append(f"{method} {path} answered {response.status_code} with B's value")
    assert not failures, "\n".join(failures[:20])
    assert await tenant_fingerprint(world.platform, world.b.tenant.id) == before


async def test_tenant_b_still_works_after_the_attack(world: World) -> None:
    me = await world.client.graphql_data("{ me { email } currentTenant { slug } }", headers=world.b.admin_headers)
    assert me["currentTenant"]["slug"] == world.b.tenant.slug
    refreshed = await world.client.graphql_data(
        "mutation($t: String!) { refreshToken(token: $t) { accessToken } }",
        {"t": world.b.refresh_token},
        tenant=world.b.tenant,
    )
    assert refreshed["refreshToken"]["accessToken"]
    key_check = await world.client.graphql_data("{ roles { slug } }", headers=world.b.key_headers)
    assert any(role["slug"].startswith(world.b.tenant.slug) for role in key_check["roles"])


async def test_a_credentials_cannot_be_pointed_at_tenant_b(world: World) -> None:
    for headers in (world.a.admin_headers, world.a.key_headers):
        crossed = {**headers, "X-Tenant-ID": world.b.tenant.slug}
        body = await world.client.graphql(
            "{ me { email } users { edges { node { email } } } }", headers=crossed, expect_status=None
        )
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
        assert not any(secret in json.dumps(body) for secret in world.secrets - {world.b.tenant.slug})
