"""Benchmark: time from `rustok serve` to `/health/ready` = 200.

Starts the real server as a subprocess in a scratch directory (embedded PostgreSQL,
every installed module) several times and reports the first start (which runs
initdb) and the later starts (data directory already there).

    uv run python bench/boot_time.py [--runs 5] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from rustok_core.embedded import ensure_database
from rustok_testing.server import environment_without_rustok, running_server

RUSTOK = str(Path(sys.executable).parent / "rustok")


def boot_once(workdir: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    with running_server([RUSTOK, "serve"], cwd=workdir, env=env, log=workdir / "server.log") as server:
        server.wait_for("/health/ready")
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="use this PostgreSQL instead of the embedded one")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rustok-boot-") as tmp:
        workdir = Path(tmp)
        (workdir / "config").mkdir()
        (workdir / "config" / "development.yaml").write_text("log_level: warning\n")
        env = environment_without_rustok(RUSTOK_CONFIG_DIR=str(workdir / "config"))
        if args.database_url:
            url = make_url(args.database_url)
            ensure_database(url.set(database="postgres").render_as_string(hide_password=False), str(url.database))
            env["DATABASE_URL"] = args.database_url
        times = [boot_once(workdir, env) for _ in range(args.runs)]

    where = "external PostgreSQL" if args.database_url else "embedded PostgreSQL"
    print(f"boot to /health/ready = 200 ({where}, {args.runs} runs)")
    print(f"  first start:   {times[0]:.2f} s" + ("" if args.database_url else "  (includes initdb)"))
    later = times[1:] or times
    print(f"  later starts:  median {statistics.median(later):.2f} s, max {max(later):.2f} s")


if __name__ == "__main__":
    main()
