"""Running uv from xtask."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from rustok_xtask.modules_file import XtaskError


def uv_command() -> list[str]:
    """The uv executable: the one running us (``$UV``) or the first on PATH."""
    exe = os.environ.get("UV") or shutil.which("uv")
    if not exe:
        raise XtaskError("uv is not installed; install it with `pip install uv`")
    return [exe]


def run_uv(args: list[str], cwd: Path) -> str:
    result = subprocess.run([*uv_command(), *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise XtaskError(f"`uv {' '.join(args)}` failed:\n{(result.stderr or result.stdout).strip()}")
    return result.stderr + result.stdout
