"""Each benchmark of issue 14 starts, runs on `--size tiny` and ends with its JSON line.

Benchmarks are not tests (their figures depend on the machine); this only keeps them
from rotting while the code under them changes. Slow: real rate limits and child
processes, a minute or two in all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PG_ENV, ROOT

pytestmark = pytest.mark.slow

BENCHES = ["startup", "broadcast", "conversation",
           pytest.param("digest", marks=pytest.mark.postgres),
           pytest.param("export", marks=pytest.mark.postgres)]
NEEDS_PG = {"digest", "export"}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("name", BENCHES)
def test_a_benchmark_runs_on_a_tiny_size_and_reports_product_and_baseline(name: str) -> None:
    if name in NEEDS_PG and not os.environ.get(PG_ENV):
        pytest.skip(f"bench.{name} measures PostgreSQL: {PG_ENV} not set")
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed module name
        [sys.executable, "-m", f"bench.{name}", "--size", "tiny", "--runs", "1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=840, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    last = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"bench", "baseline", "figures", "ratios"} <= set(last)
    assert last["bench"] == name and last["size"] == "tiny"
    assert last["figures"] and last["baseline"] and last["ratios"]
