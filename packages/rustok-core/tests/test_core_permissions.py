"""Permissions are ``resource:action`` pairs declared by modules."""

from __future__ import annotations

import dataclasses

import pytest

from rustok_core.permissions import Permission


def test_permission_name_is_resource_colon_action() -> None:
    permission = Permission("a", "read")
    assert permission.name == "a:read"
    assert str(permission) == "a:read"


def test_parse_splits_resource_and_action() -> None:
    permission = Permission.parse("blog.posts:manage", "manage posts")
    assert permission.resource == "blog.posts"
    assert permission.action == "manage"
    assert permission.description == "manage posts"


@pytest.mark.parametrize("name", ["a:read", "tenant_modules:manage", "blog.posts:publish_now", "x9:y9"])
def test_parse_round_trips(name: str) -> None:
    permission = Permission.parse(name)
    assert permission.name == name
    assert Permission.parse(permission.name) == permission


@pytest.mark.parametrize(
    "name",
    ["", "blog", "blog:", ":read", "Blog:read", "blog:Read", "blog:read:all", "blog-posts:read", "1blog:read", "b:1x"],
)
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="invalid permission"):
        Permission.parse(name)


def test_invalid_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="resource:action"):
        Permission("blog posts", "read")


def test_permissions_are_immutable_and_hashable() -> None:
    permission = Permission("blog", "read")
    with pytest.raises(dataclasses.FrozenInstanceError):
        permission.action = "write"  # type: ignore[misc]
    assert {permission, Permission("blog", "read")} == {permission}
