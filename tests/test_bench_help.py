"""Asking a bench for its options touches no database (bench/README.md).

A bench drops and creates its own database unless told to keep it, and the
1M-customer data set takes minutes to generate again. Each bench below reads
its command line first, so ``--help`` prints the options and stops, even when
the database named in DATABASE_URL is the bench's and cannot be reached.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

# Nothing listens on port 1: a bench that connected before reading its options fails.
UNREACHABLE = "postgres://nobody:nothing@127.0.0.1:1/app_bench_unreachable"


@pytest.mark.parametrize(
    "script",
    ["bench_recompute.py", "bench_import.py", "bench_load.py", "bench_pages.py", "bench_feed.py"],
)
def test_help_prints_the_options_without_connecting(script):
    env = {k: v for k, v in os.environ.items() if k != "APP_DATABASE_URL"}
    env["DATABASE_URL"] = UNREACHABLE
    result = subprocess.run(
        [sys.executable, str(BENCH / script), "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {script}")
