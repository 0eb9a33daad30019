"""What `thidua run` loads at start leaves out the heavy libraries of files and charts.

matplotlib with numpy, openpyxl and python-docx are most of the process's memory and
start time (issue 14: 140 MB at start with them, 41 MB for a bare PTB bot); they load
on the first chart, workbook or document instead.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

RUNTIME = ("bot.cli", "bot.subcommands", "bot.file_commands", "bot.assembly", "bot.delivery",
           "bot.inbox", "bot.http", "bot.channels.telegram", "bot.channels.zalo",
           "handlers.router", "scheduler.runner")
HEAVY = ("matplotlib", "numpy", "openpyxl", "docx", "PIL")


def _loaded_after(imports: tuple[str, ...]) -> list[str]:
    script = (f"import sys\nfor m in {list(imports)!r}: __import__(m)\n"
              f"print(','.join(h for h in {list(HEAVY)!r} if h in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,  # noqa: S603
                          text=True, timeout=60, check=True)
    return [m for m in done.stdout.strip().split(",") if m]


def test_the_runtime_starts_without_charts_workbooks_or_documents() -> None:
    assert _loaded_after(RUNTIME) == []


def test_the_check_sees_a_heavy_import() -> None:
    """The subprocess check itself works: a chart module does load matplotlib."""
    assert "matplotlib" in _loaded_after(("reporting.chart",))
