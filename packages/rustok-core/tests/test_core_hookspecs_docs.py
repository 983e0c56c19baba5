"""docs/hooks.md and rustok_core.hookspecs describe the same hooks."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rustok_core import hookspecs


def find_hooks_doc() -> Path:
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "docs" / "hooks.md"
        if candidate.is_file():
            return candidate
    raise AssertionError("docs/hooks.md not found above the test file")


HOOKS_DOC = find_hooks_doc()
TABLE_HOOK_RE = re.compile(r"^\|\s*`(rustok_\w+)\(([^)]*)\)`\s*\|", re.MULTILINE)


def spec_functions() -> dict[str, Callable[..., Any]]:
    return {
        name: function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("rustok_")
    }


def documented_hooks() -> dict[str, tuple[str, ...]]:
    """Hook name → argument names, from the table of docs/hooks.md."""
    text = HOOKS_DOC.read_text(encoding="utf-8")
    return {
        name: tuple(arg.strip() for arg in args.split(",") if arg.strip()) for name, args in TABLE_HOOK_RE.findall(text)
    }


def test_the_doc_table_lists_hooks() -> None:
    assert "rustok_module" in documented_hooks()
    assert len(documented_hooks()) >= 10


def test_every_rustok_function_in_hookspecs_is_a_hookspec() -> None:
    for name, function in spec_functions().items():
        assert hasattr(function, f"{hookspecs.PROJECT}_spec"), f"{name} is not marked @hookspec"


@pytest.mark.parametrize("name", sorted(spec_functions()))
def test_every_hookspec_is_documented(name: str) -> None:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    assert f"`{name}(" in text, f"{name} is missing from {HOOKS_DOC}"
    assert name in documented_hooks(), f"{name} is not in the hook table of {HOOKS_DOC}"


def test_every_documented_hook_is_a_hookspec() -> None:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`(rustok_\w+)\(", text))
    assert mentioned == set(documented_hooks())
    assert mentioned - set(spec_functions()) == set()


@pytest.mark.parametrize("name", sorted(spec_functions()))
def test_documented_arguments_match_the_hookspec(name: str) -> None:
    parameters = tuple(inspect.signature(spec_functions()[name]).parameters)
    assert documented_hooks().get(name) == parameters


@pytest.mark.parametrize("name", sorted(spec_functions()))
def test_every_hookspec_has_a_docstring(name: str) -> None:
    doc = inspect.getdoc(spec_functions()[name])
    assert doc, f"{name} has no docstring"
    assert len(doc) > 20


def test_async_hooks_are_documented_as_async() -> None:
    text = HOOKS_DOC.read_text(encoding="utf-8")
    for name, function in spec_functions().items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{name}("))
        assert inspect.iscoroutinefunction(function) == ("(async)" in row), row
