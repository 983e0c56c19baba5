"""The ``xtask`` command line (run as ``uv run xtask ...``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from rustok_core.errors import BootError
from rustok_xtask.check import check as run_check
from rustok_xtask.generate import generate as run_generate
from rustok_xtask.rebuild import rebuild as run_rebuild
from rustok_xtask.scaffold import new_module
from rustok_xtask.workspace import Workspace, find_root


@click.group()
@click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), help="Workspace root (default: nearest modules.toml)."
)
@click.pass_context
def cli(ctx: click.Context, root: Path | None) -> None:
    """Workspace tasks driven by modules.toml."""
    ctx.obj = Workspace(find_root(root))


@cli.command()
@click.pass_obj
def generate(workspace: Workspace) -> None:
    """Write the server's module pins, sources, manifest and import contracts."""
    changed = run_generate(workspace)
    for path in changed:
        click.echo(f"wrote {workspace.relative(path)}")
    if not changed:
        click.echo("generated files are up to date")


@cli.command()
@click.option("--no-lock", is_flag=True, help="Skip `uv lock --check`.")
@click.option("--no-installed", is_flag=True, help="Skip comparing installed modules with modules.toml.")
@click.pass_obj
def check(workspace: Workspace, no_lock: bool, no_installed: bool) -> None:
    """Exit non-zero naming any drift between modules.toml and the workspace."""
    problems = run_check(workspace, lock=not no_lock, installed=not no_installed)
    if problems:
        click.secho(f"xtask check: {len(problems)} problem(s):", fg="red", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(1)
    click.echo(f"xtask check: ok ({len(workspace.modules.modules)} modules)")


@cli.command()
@click.option("--no-sync", is_flag=True, help="Lock but do not install.")
@click.pass_obj
def rebuild(workspace: Workspace, no_sync: bool) -> None:
    """generate + `uv lock` + `uv sync`, with a summary of what changed."""
    summary = run_rebuild(workspace, sync=not no_sync)
    for line in summary.lines():
        click.echo(line)


@cli.command("new-module")
@click.argument("name")
@click.option("--description", default=None, help="One sentence on what the module does.")
@click.pass_obj
def new_module_command(workspace: Workspace, name: str, description: str | None) -> None:
    """Scaffold a working module package NAME and list it in modules.toml."""
    created = new_module(workspace, name, description=description)
    click.echo(f"created {workspace.relative(created)}")
    click.echo(
        f"next: `uv run xtask rebuild` installs it; its tests run with `uv run pytest {workspace.relative(created)}`"
    )


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        sys.exit(1)
    except BootError as exc:
        click.secho(f"xtask: {exc}", fg="red", err=True)
        sys.exit(2)
