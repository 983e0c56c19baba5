"""Every API entry point of the installed modules declares its access.

The schema composition already refuses an undeclared root field; this test adds the
policy on top: mutations and non-GET routes need a permission or a sign-in (only the
sign-in style mutations may be public), every declared permission exists, and every
field that declares access is actually guarded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from graphql import GraphQLObjectType

from rustok_server.graphql.schema import FieldAccess, root_fields

# Mutations that must work without credentials: they are how one gets credentials.
SIGN_IN_MUTATIONS = frozenset(
    {"signUp", "signIn", "refreshToken", "forgotPassword", "resetPassword", "verifyEmail", "resendVerification"}
)
# A guest shops without an account: the cart is reached by its unguessable id, and the
# services check ownership of customers' carts themselves (tested in rustok-commerce).
GUEST_SHOPPING_MUTATIONS = frozenset(
    {
        "createCart",
        "addCartLine",
        "updateCartLine",
        "removeCartLine",
        "setCartEmail",
        "setCartAddress",
        "setShippingOption",
        "checkout",
    }
)
PUBLIC_MUTATIONS = SIGN_IN_MUTATIONS | GUEST_SHOPPING_MUTATIONS
READ_METHODS = frozenset({"GET", "HEAD"})


def field_violations(fields: Iterable[tuple[str, str, FieldAccess]], known: Any) -> list[str]:
    problems = []
    for type_name, field_name, access in fields:
        label = f"{type_name}.{field_name} ({access.owner})"
        if not access.declared:
            problems.append(f"{label}: declares neither @public, @authenticated nor @requires")
        elif type_name == "Mutation" and access.public and field_name not in PUBLIC_MUTATIONS:
            problems.append(f"{label}: a mutation may only be @public if it signs in (allow-list)")
        elif type_name == "Subscription" and access.public:
            problems.append(f"{label}: subscriptions may not be @public")
        if access.permission is not None and not known(access.permission):
            problems.append(f"{label}: requires '{access.permission}', which no module declares")
    return problems


def route_violations(mounted: Iterable[Any], known: Any) -> list[str]:
    problems = []
    for entry in mounted:
        spec = entry.route.spec
        methods = set(entry.route.methods or ())
        label = f"{'/'.join(sorted(methods))} {entry.prefix}{entry.route.path} ({entry.module})"
        if not (spec.public or spec.permission):
            problems.append(f"{label}: declares neither public=True nor a permission")
        if spec.public and methods - READ_METHODS:
            problems.append(f"{label}: a route that changes state may not be public")
        if spec.permission is not None and not known(spec.permission):
            problems.append(f"{label}: requires '{spec.permission}', which no module declares")
    return problems


def test_every_graphql_root_field_declares_its_access(rustok_platform: Any) -> None:
    fields = list(root_fields(rustok_platform.schema))
    names = {(t, f) for t, f, _ in fields}
    # The walk sees the fields of the server and of every installed module.
    assert {("Mutation", "signIn"), ("Query", "roles"), ("Mutation", "assignRole"), ("Query", "currentTenant")} <= names
    assert {access.owner for _, _, access in fields} >= {"server", "tenant", "rbac"}
    assert field_violations(fields, rustok_platform.ctx.permissions.is_known) == []
    public = {f for t, f, a in fields if t == "Mutation" and a.public}
    assert "signIn" in public
    assert public <= PUBLIC_MUTATIONS


def test_every_declared_permission_is_known_and_every_declaring_field_is_guarded(rustok_platform: Any) -> None:
    composed = rustok_platform.schema
    catalog = rustok_platform.ctx.permissions
    checked = 0
    for (type_name, field_name), access in sorted(composed.fields.items()):
        if access.permission is not None:
            assert catalog.is_known(access.permission), f"{type_name}.{field_name}: {access.permission}"
        if access.permission is None and not access.authenticated:
            continue
        graphql_type = composed.schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        resolver = graphql_type.fields[field_name].resolve
        assert resolver is not None and hasattr(resolver, "__wrapped__"), f"{type_name}.{field_name} is not guarded"
        checked += 1
    assert checked >= 10


def test_every_rest_route_declares_its_access(rustok_platform: Any) -> None:
    mounted = list(rustok_platform.mounted_routes)
    assert mounted, "the installed modules mount REST routes (the tenant module does)"
    assert route_violations(mounted, rustok_platform.ctx.permissions.is_known) == []
    assert any(m.route.spec.permission == "modules:manage" for m in mounted)


def test_the_checks_catch_what_they_are_meant_to_catch() -> None:
    """The rules themselves, on fields and routes that break them."""

    def known(name: str) -> bool:
        return name in {"roles:read"}

    bad_fields = [
        ("Mutation", "deleteEverything", FieldAccess(owner="evil", public=True)),
        ("Mutation", "signIn", FieldAccess(owner="server", public=True)),
        ("Query", "secrets", FieldAccess(owner="evil")),
        ("Query", "typo", FieldAccess(owner="evil", permission="role:read")),
        ("Mutation", "fine", FieldAccess(owner="evil", permission="roles:read")),
        ("Mutation", "me", FieldAccess(owner="evil", authenticated=True)),
    ]
    problems = field_violations(bad_fields, known)
    assert len(problems) == 3
    assert "Mutation.deleteEverything" in problems[0]
    assert "Query.secrets" in problems[1]
    assert "'role:read'" in problems[2]

    class Spec:
        def __init__(self, public: bool = False, permission: str | None = None) -> None:
            self.public, self.permission = public, permission

    class Route:
        def __init__(self, path: str, methods: set[str], spec: Spec) -> None:
            self.path, self.methods, self.spec = path, methods, spec

    class Mounted:
        def __init__(self, route: Route) -> None:
            self.module, self.prefix, self.route = "evil", "/api/v1/evil", route

    routes = [
        Mounted(Route("/wipe", {"POST"}, Spec(public=True))),
        Mounted(Route("/read", {"GET", "HEAD"}, Spec(public=True))),
        Mounted(Route("/undeclared", {"GET"}, Spec())),
        Mounted(Route("/typo", {"PUT"}, Spec(permission="nope:manage"))),
    ]
    problems = route_violations(routes, known)
    assert [p.split(":")[0] for p in problems] == [
        "POST /api/v1/evil/wipe (evil)",
        "GET /api/v1/evil/undeclared (evil)",
        "PUT /api/v1/evil/typo (evil)",
    ]
