"""The house's layering holds, and the check that guards it really fails on a breach.

`lint-imports` (import-linter) reads the contracts in pyproject.toml. Here it runs on a
copy of the tree, once as it is and once with one forbidden import planted, so a
contract that could never fail would show.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduler", "reporting", "models", "fakes", "templates",
            "migrations")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[test]')")
    return subprocess.run([str(exe), "--no-cache"], cwd=tree, capture_output=True,  # noqa: S603 - our own venv's tool on a copy of our tree
                          text=True, timeout=120, check=False,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("house")
    for name in PACKAGES:
        shutil.copytree(ROOT / name, copy / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def plant(tree: Path, module: str, line: str) -> Path:
    path = tree / module
    path.write_text(f"{line}\n", encoding="utf-8")
    return path


def test_the_tree_keeps_every_contract(tree: Path) -> None:
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("models/upward.py", "import handlers.router", "Layers"),
    ("scheduler/sideways.py", "import handlers.council", "Layers"),
    ("handlers/chatty.py", "import telegram", "Only the Telegram channel"),
    ("bot/assembly_extra.py", "import fakes.telegram", "fake messenger APIs"),
])
def test_a_forbidden_import_breaks_the_check(tree: Path, module: str, line: str,
                                             contract: str) -> None:
    planted = plant(tree, module, line)
    try:
        result = lint_imports(tree)
    finally:
        planted.unlink()
    assert result.returncode != 0
    broken = [ln for ln in result.stdout.splitlines() if " BROKEN" in ln]
    assert any(contract in ln for ln in broken), result.stdout
