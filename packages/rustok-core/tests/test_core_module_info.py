"""ModuleInfo: what a module says about itself, validated on construction."""

from __future__ import annotations

import dataclasses

import pytest

from rustok_core import ModuleInfo, ModuleKind


def test_defaults_to_an_optional_module_without_dependencies() -> None:
    info = ModuleInfo(slug="blog", name="Blog", version="1.0.0")
    assert info.kind is ModuleKind.OPTIONAL
    assert not info.is_core
    assert info.dependencies == ()
    assert info.description == ""


def test_core_kind_is_core() -> None:
    assert ModuleInfo(slug="tenant", name="Tenants", version="1", kind=ModuleKind.CORE).is_core


def test_kind_given_as_text_is_normalized() -> None:
    info = ModuleInfo(slug="tenant", name="Tenants", version="1", kind="core")  # type: ignore[arg-type]
    assert info.kind is ModuleKind.CORE


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        ModuleInfo(slug="blog", name="Blog", version="1", kind="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize("slug", ["ab", "blog", "blog_posts", "b2", "a" * 32])
def test_valid_slugs_are_accepted(slug: str) -> None:
    assert ModuleInfo(slug=slug, name="X", version="1").slug == slug


@pytest.mark.parametrize("slug", ["", "a", "Blog", "blog-posts", "2blog", "_blog", "blog posts", "a" * 33, "blög"])
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(ValueError, match="invalid module slug"):
        ModuleInfo(slug=slug, name="X", version="1")


def test_a_module_cannot_depend_on_itself() -> None:
    with pytest.raises(ValueError, match="cannot depend on itself"):
        ModuleInfo(slug="blog", name="Blog", version="1", dependencies=("content", "blog"))


def test_dependencies_are_normalized_to_a_tuple() -> None:
    info = ModuleInfo(slug="blog", name="Blog", version="1", dependencies=["content", "media"])  # type: ignore[arg-type]
    assert info.dependencies == ("content", "media")
    assert isinstance(info.dependencies, tuple)


def test_module_info_is_immutable_and_hashable() -> None:
    info = ModuleInfo(slug="blog", name="Blog", version="1", dependencies=["content"])  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.slug = "forum"  # type: ignore[misc]
    assert hash(info) == hash(ModuleInfo(slug="blog", name="Blog", version="1", dependencies=("content",)))
