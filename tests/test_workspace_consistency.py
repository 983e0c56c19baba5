"""The repository as committed is consistent with its modules.toml."""

from __future__ import annotations

from pathlib import Path

from rustok_xtask.check import check
from rustok_xtask.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def test_generated_files_and_installed_modules_match_modules_toml() -> None:
    assert check(Workspace(ROOT), lock=False, installed=True) == []
