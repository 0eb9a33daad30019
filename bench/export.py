"""`thidua export --period 2022-12` at 15, 1,500 and 15,000 groups on PostgreSQL, against
`psql \\copy` of the same month's figures.

    THIDUA_TEST_POSTGRES_URL=postgresql+asyncpg://… python -m bench.export [--size tiny|full]

The project's modules are compiled first, as an installed `thidua` has them (see
`compile_bytecode`). Each size gets a fresh database filled as `bench.digest` fills it
(its `load`: groups, the 12 months of 2022, COPY), and a config.yaml in a temporary
folder: the shipped one with the generated groups (`thidua` mirrors config's groups into
the database at start, so the file must name them). Then, alternating:
- product: the real `thidua export --period 2022-12 --out …/thidua-2022-12.xlsx` as a child
  process, the whole command as a user runs it (interpreter start, imports, config,
  schema check, groups mirrored, the workbook written); wall time and the child's peak
  RSS (`os.wait4`);
- baseline: `psql -c "\\copy (SELECT …) TO '…csv' CSV"`, December's values, one row a
  group with its status and one column an indicator (the month's figures joined to the
  groups and indicators), also a child process.
The workbook is opened after the last run and its group rows counted (one a group, the
run stops if not). `build_digest` (the targets sheet's source) is also timed in this
process on the same database, to tell how much of the export is the digest.
Issue 14's goals: 15 groups < 0.6 s, 15,000 groups < 3 s.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import make_url

from bench.common import ROOT, Spread, alternate, arguments, emit, fresh_pg_database, pg_url, table
from bench.digest import YEAR, load, ward_of
from models.db import make_engine, make_sessions
from reporting.config import Settings
from reporting.config_file import load_settings
from reporting.digest_load import build_digest
from reporting.periods import period_dates

SIZES = {"tiny": [15, 150], "full": [15, 1_500, 15_000]}
GOALS = {1_500: "—", 150: "—", 15: "< 0.6 s", 15_000: "< 3 s"}
PERIOD = f"{YEAR}-12"
NO_RSS = Spread(0, 0, 0)  # no /usr/bin/time on this machine
# The installed `thidua` script (pyproject's [project.scripts]) beside this interpreter;
# PYTHONPATH makes it run this checkout's code.
_SCRIPT = Path(sys.executable).parent / "thidua"
THIDUA = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot.cli"]


def child_env() -> dict[str, str]:
    """This environment, but the children may write bytecode (as in `bench.startup`)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def compile_bytecode() -> None:
    """The project's modules as an installed package has them: compiled once (as
    `pip install` does). A shell with PYTHONDONTWRITEBYTECODE would otherwise have every
    export compile every module it imports, which no installed `thidua` does."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "bot", "reporting", "models"],
                   cwd=ROOT, env=child_env(), check=True, stdout=subprocess.DEVNULL)


def write_config(folder: Path, ward: Settings) -> Path:
    """The shipped config.yaml with the generated groups in place of its own."""
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    raw["groups"] = [{"code": g.code, "name": g.name} for g in ward.groups]
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def copy_sql(settings: Settings) -> str:
    """December's figures, one row a group (its code, name and report status), one
    column an indicator: what the workbook's first sheet holds, as `\\copy` writes it."""
    columns = ",\n  ".join(
        f"max(v.value) FILTER (WHERE v.indicator = '{i.code}') AS \"{i.code}\""
        for i in settings.report.indicators)
    head = f"SELECT g.code, g.name, coalesce(r.status, 'missing') AS status,\n  {columns}\n"
    return (head + "FROM groups g\n"  # noqa: S608 - indicator codes from config.yaml
            "LEFT JOIN reports r ON r.group_id = g.id AND r.dataset = 'group_monthly'\n"
            f"  AND r.period_id = (SELECT id FROM periods WHERE key = '{PERIOD}')\n"
            "LEFT JOIN report_values v ON v.report_id = r.id\n"
            "WHERE g.active GROUP BY g.id, r.status ORDER BY g.id")


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    """Run a child to its end: wall seconds and its own peak RSS (MB). The RSS comes from
    `/usr/bin/time` (a small process forking the child): `wait4` on a child forked from
    this interpreter would report this interpreter's size up to the child's exec."""
    wrap = ["/usr/bin/time", "-f", "rss_kb=%M"] if Path("/usr/bin/time").exists() else []
    started = time.perf_counter()
    done = subprocess.run([*wrap, *argv], cwd=cwd, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - started
    err = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        sys.exit(f"{argv[0]} failed ({done.returncode}): {err[-2000:]}")
    rss = [line for line in err.splitlines() if line.startswith("rss_kb=")]
    figures: dict[str, float] = {"seconds": took}
    if rss:
        figures["rss_mb"] = int(rss[-1].removeprefix("rss_kb=")) / 1024
    return figures


def group_rows(path: Path) -> int:
    """Rows of the workbook's first sheet with a group code (the totals row has none)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        return sum(1 for row in wb.worksheets[0].iter_rows(min_row=2, max_col=1,
                                                              values_only=True) if row[0])
    finally:
        wb.close()


async def digest_seconds(url: str, ward: Settings, runs: int) -> Spread:
    """`build_digest` alone on the same data, in this process (one warm-up first)."""
    december = period_dates(ward.calendar, YEAR, 12)
    engine = make_engine(url)
    sessions = make_sessions(engine)
    took: list[float] = []
    try:
        for _ in range(runs + 1):
            t0 = time.perf_counter()
            async with sessions() as s:
                await build_digest(s, ward, december, december.due_on)
            took.append(time.perf_counter() - t0)
    finally:
        await engine.dispose()
    return Spread.of(took[1:])


async def one_size(base: str, settings: Settings, groups: int, runs: int,
                   folder: Path) -> dict[str, Any]:
    ward = ward_of(settings, groups)
    async with fresh_pg_database(base) as url:
        rows = await load(url, ward, groups)
        config = write_config(folder, ward)
        out = folder / f"thidua-{PERIOD}.xlsx"
        env = {**child_env(), "THIDUA_DATABASE_URL": url, "THIDUA_CONFIG": str(config),
               "THIDUA_MEDIA_DIR": str(folder / "media"), "PYTHONPATH": str(ROOT)}
        thidua = [*THIDUA, "export", "--period", PERIOD, "--out", str(out)]
        plain = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        sql = copy_sql(ward).replace("\n", " ")
        psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", plain, "-c",
                f"\\copy ({sql}) TO '{folder / 'copy.csv'}' CSV HEADER"]

        async def product() -> dict[str, float]:
            return await asyncio.to_thread(timed, thidua, env, folder)

        async def baseline() -> dict[str, float]:
            return await asyncio.to_thread(timed, psql, env, folder)

        ours, hand = await alternate(runs, product, baseline)
        written = group_rows(out)
        copied = len((folder / "copy.csv").read_text(encoding="utf-8").splitlines()) - 1
        if written != groups or copied != groups:
            sys.exit(f"{groups} groups, but the workbook has {written} group rows and "
                     f"the \\copy {copied}")
        digest = await digest_seconds(url, ward, runs)
    return {"groups": groups, "value_rows": rows, "export_s": ours["seconds"],
            "export_rss_mb": ours.get("rss_mb", NO_RSS), "copy_s": hand["seconds"],
            "copy_rss_mb": hand.get("rss_mb", NO_RSS), "digest_s": digest, "xlsx_kb":
            out.stat().st_size / 1024 if out.exists() else 0.0}


async def main() -> None:
    args = arguments(__doc__ or "")
    base = pg_url()
    if base is None:
        sys.exit("bench.export needs PostgreSQL: set THIDUA_TEST_POSTGRES_URL")
    settings = load_settings(ROOT / "config.yaml")
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="thidua-bench-export-") as tmp:
        results = [await one_size(base, settings, n, args.runs, Path(tmp))
                   for n in SIZES[args.size]]
    rows = []
    for r in results:
        ratio = r["export_s"].mid / r["copy_s"].mid
        rows.append((f"export, {r['groups']:,} groups (s)",
                     f"{r['export_s'].text('{:.2f}')} ({ratio:.1f}×)",
                     r["copy_s"].text("{:.3f}"), GOALS[r["groups"]]))
        rows.append(("  peak RSS (MB)", r["export_rss_mb"].text("{:.0f}"),
                     r["copy_rss_mb"].text("{:.0f}"), "—"))
        rows.append(("  of which build_digest, in process (s)",
                     r["digest_s"].text("{:.3f}"), "", "—"))
    table(f"`thidua export --period {PERIOD}` vs psql \\copy, PostgreSQL, "
          f"{args.runs} runs each", rows)
    for r in results:
        print(f"  {r['groups']:,} groups: {r['value_rows']:,} value rows; workbook "
              f"{r['xlsx_kb']:.0f} KB with a row for every group")
    emit("export",
         {str(r["groups"]): {"copy_s": r["copy_s"].as_json(),
                             "copy_rss_mb": r["copy_rss_mb"].as_json(1)} for r in results},
         {str(r["groups"]): {"export_s": r["export_s"].as_json(),
                             "export_rss_mb": r["export_rss_mb"].as_json(1),
                             "digest_s": r["digest_s"].as_json(),
                             "value_rows": r["value_rows"]} for r in results},
         {str(r["groups"]): round(r["export_s"].mid / r["copy_s"].mid, 1) for r in results},
         size=args.size, runs=args.runs)


if __name__ == "__main__":
    asyncio.run(main())
