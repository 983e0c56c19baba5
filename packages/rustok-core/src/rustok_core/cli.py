"""Helpers for module CLI commands (added through the ``rustok_cli`` hook).

The ``rustok`` command's context object boots the platform on demand; a module's
command hands it async work that receives the booted :class:`AppContext`::

    @cli.command()
    def stats() -> None:
        print(run_in_platform(lambda ctx: compute(ctx)))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from rustok_core.context import AppContext

T = TypeVar("T")


def run_in_platform(work: Callable[[AppContext], Awaitable[T]], *, start: bool = False) -> T:
    """Boot the platform of the running ``rustok`` command and run ``work(ctx)``.

    With ``start``, modules' ``rustok_startup`` hooks run first (background workers)
    and ``rustok_shutdown`` hooks after.
    """
    obj: Any = click.get_current_context().find_root().obj
    runner = getattr(obj, "run_with_context", None)
    if runner is None:
        raise click.ClickException("this command must run under the `rustok` command line")
    result: T = runner(work, start=start)
    return result
