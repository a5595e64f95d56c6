"""Scoring at bank scale (issue: scoring engine).

A bank of 10,000 RMs and 2,000,000 clients written by `make_sample_exports` (2026-01 to
2026-10) and imported by `import_crm`. Measured, each the median of 3, beside the floor
measured in the same run:

- `manage.py recompute --period 2026-10` (a new process): the month, its quarter 2026-Q4 and
  the year 2026 to date, scored and published. Goal: ratio ≤ 25.
- A what-if preview of 2026-10 (`scorecards.schemes.services.scheme_preview` with the version in
  force, in a new process). Goal: within the same bound.
- The floor: one GROUP BY by RM over the month's holdings, in PostgreSQL, warm cache. A
  holding row names its client, not her RM: the month's holdings are joined to the month's
  client snapshot (which names the managing RM) and summed per RM.

Building the database takes many minutes, so it is kept between runs
(`wealthscore_bench_scoring`, its inputs stamped in the database's comment) and rebuilt only
when the generator's parameters, `crm/sample.py` or a migration change, or with `--rebuild`
(or BENCH_REBUILD=1). The cache holds imported data only, nothing scored, so that it does not
depend on the scoring code under test. Each run first deletes the score runs that are no
longer current, so that runs start alike and the database does not grow. A statement that
runs longer than STATEMENT_TIMEOUT fails the run (a plan gone wrong would otherwise hold a
core for hours, even after the benchmark is killed).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

import psycopg

from common import PG_SERVER, ROOT, WORK, Run, fresh_database, manage, report, timed

NAME = "wealthscore_bench_scoring"
URL = f"{PG_SERVER}/{NAME}"
# make_sample_exports writes the first `months` months of the year that have ended: 10 gives
# 2026-01..2026-10, so that the month, its quarter and the year to date all have their data.
GENERATOR = {
    "rms": 10_000,
    "clients-per-rm": 200,
    "months": 10,
    "year": 2026,
    "seed": 20261124,
    "encoding": "utf-8",
}
PERIOD = "2026-10"
MONTH_END = "2026-10-31"
REPEATS = 3
GOAL = 25.0
# Far beyond the goal's whole budget (≈ 25 × a floor of a few seconds) for a single query.
STATEMENT_TIMEOUT = "300s"

FLOOR_SQL = """
SELECT s.rm_employee_id, SUM(h.balance), COUNT(*)
FROM crm_holding h
JOIN crm_clientsnapshot s ON s.client_id = h.client_id AND s.as_of_date = h.as_of_date
WHERE h.as_of_date = %(day)s
GROUP BY s.rm_employee_id
"""
# For reference only: the same GROUP BY over the month's client snapshot (one row a client).
SNAPSHOT_SQL = """
SELECT rm_employee_id, SUM(total_balance), COUNT(*)
FROM crm_clientsnapshot WHERE as_of_date = %(day)s
GROUP BY rm_employee_id
"""
# The files' kinds in dependency order (crm.kinds.LOAD_ORDER), each kind's files by name.
LOAD_ORDER = (
    "org_units", "staff", "products", "holdings", "sales", "activities", "surveys",
    "complaints", "recording_checks", "targets", "manual_scores",
)  # fmt: skip
# The score runs of earlier bench runs that are no longer current, and what they wrote.
PRUNE = """
CREATE TEMP TABLE old_runs AS SELECT id FROM scorecards_scorerun
  WHERE id NOT IN (SELECT current_run_id FROM scorecards_period
                   WHERE current_run_id IS NOT NULL);
DELETE FROM scorecards_scoreline WHERE scorecard_id IN
  (SELECT id FROM scorecards_scorecard WHERE run_id IN (SELECT id FROM old_runs));
DELETE FROM scorecards_scorecard WHERE run_id IN (SELECT id FROM old_runs);
DELETE FROM scorecards_scorerunchunk WHERE run_id IN (SELECT id FROM old_runs);
DELETE FROM scorecards_scorerun WHERE id IN (SELECT id FROM old_runs);
"""
PREVIEW = f"""
import datetime as dt, time
from scorecards.rules import version_in_force
from scorecards.schemes.services import scheme_preview
started = time.perf_counter()
version = version_in_force(dt.date.fromisoformat("{MONTH_END}"))
result = scheme_preview(version=version, period_code="{PERIOD}")
print(f"preview: {{len(result['rows'])}} rows, version {{version.pk}}, "
      f"{{time.perf_counter() - started:.2f}} s in process")
"""
# What the night's import of October does to the cache of month stretches (crm.FactMonth):
# October's facts change, so its stretches are computed again; January to September, which
# no import touched, are read back.
OCTOBER_IMPORTED = f"UPDATE crm_factmonth SET version = version + 1 WHERE month >= '{PERIOD}'"
FORGET_STRETCHES = "DELETE FROM scorecards_measuresegment"
PERIOD_LINE = re.compile(r"^(\S+): run #\d+ (\w+), (\d+) cards, (\d+) branches, ([\d.]+) s$", re.M)


def psql(url: str, *commands: str) -> None:
    args = ["psql", url, "-q", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True)


def checkpoint() -> None:
    """Start each timed step with no checkpoint pending (one step's WAL not billed to the next)."""
    psql(URL, "CHECKPOINT")


def stamp() -> str:
    """What the built database depends on: the generator's parameters, its code, migrations."""
    digest = hashlib.sha256()
    sources = [ROOT / "crm" / "sample.py", *sorted(ROOT.glob("*/migrations/*.py"))]
    for path in sources:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return json.dumps({"generator": GENERATOR, "sources": digest.hexdigest()}, sort_keys=True)


def built_stamp() -> str | None:
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [NAME],
        ).fetchone()
    return row[0] if row else None


def by_kind(folder) -> dict[str, list[str]]:
    """The files of each kind, kinds in dependency order (each named `<kind>[_<date>].csv`)."""
    files: dict[str, list[str]] = {kind: [] for kind in LOAD_ORDER}
    for path in sorted(folder.iterdir()):
        kind = next((k for k in LOAD_ORDER if re.fullmatch(rf"{k}(_[\d-]+)?", path.stem)), None)
        if kind is None:
            raise RuntimeError(f"make_sample_exports wrote a file of no known kind: {path.name}")
        files[kind].append(str(path))
    return {kind: paths for kind, paths in files.items() if paths}


def build() -> list[str]:
    """A fresh database with the sample bank imported. The stamp is written last: an
    interrupted build is never taken for a finished one. (`import_crm` rather than
    `run_nightly`, which would also score every period the night touched: ten months, four
    quarters and the year, with the scoring code of the day.)"""
    inbox = WORK / "scoring_inbox"
    shutil.rmtree(inbox, ignore_errors=True)
    inputs = stamp()  # before anything runs: what this build is made from
    started = time.perf_counter()
    fresh_database(NAME)
    args = [item for key, value in GENERATOR.items() for item in (f"--{key}", str(value))]
    made = manage(URL, "make_sample_exports", "--out", str(inbox), *args)
    size = sum(p.stat().st_size for p in inbox.iterdir()) / 1e9
    # One process a kind (`--kind auto` would read and check each file twice).
    imports = [manage(URL, "import_crm", "--kind", k, *f) for k, f in by_kind(inbox).items()]
    loaded = Run(sum(r.seconds for r in imports), max(r.peak_rss_mb for r in imports), "")
    shutil.rmtree(inbox, ignore_errors=True)
    analyzed = time.perf_counter()
    psql(URL, "VACUUM ANALYZE")
    analyzed = time.perf_counter() - analyzed
    psql(f"{PG_SERVER}/postgres", f"COMMENT ON DATABASE {NAME} IS '{inputs}'")
    line = (
        f"set-up: {time.perf_counter() - started:.0f} s — make_sample_exports {made.seconds:.0f} s "
        f"({size:.1f} GB, peak RSS {made.peak_rss_mb:.0f} MB), import_crm "
        f"{loaded.seconds:.0f} s (peak RSS {loaded.peak_rss_mb:.0f} MB), VACUUM ANALYZE "
        f"{analyzed:.0f} s"
    )
    print(line, flush=True)
    return [line]


def describe() -> str:
    with psycopg.connect(URL) as conn:
        rows = conn.execute(
            """
            SELECT (SELECT COUNT(*) FROM crm_holding WHERE as_of_date = %(day)s),
                   (SELECT COUNT(*) FROM crm_clientsnapshot WHERE as_of_date = %(day)s),
                   (SELECT COUNT(DISTINCT as_of_date) FROM crm_clientsnapshot),
                   (SELECT COUNT(*) FROM crm_sale),
                   (SELECT COUNT(*) FROM crm_activity),
                   pg_database_size(current_database())
            """,
            {"day": MONTH_END},
        ).fetchone()
    holdings, clients, months, sales, activities, size = rows
    return (
        f"data: {clients:,} clients and {holdings:,} holdings at {MONTH_END}, {months} "
        f"month-ends, {sales:,} sales, {activities:,} activities; database {size / 1e9:.1f} GB"
    )


def code_version() -> str:
    """The commit measured, and the files changed since (the code moves while it is tuned)."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    changed = [line[3:] for line in git("status", "--porcelain").splitlines()
               if line[3:].endswith(".py") and not line[3:].startswith("bench/")]  # fmt: skip
    return f"code: {git('rev-parse', '--short', 'HEAD').strip()}" + (
        f" + uncommitted {', '.join(changed)}" if changed else ""
    )


def floor(sql: str) -> float:
    """Median of REPEATS runs of `sql` in this process, after one run to warm the cache."""
    with psycopg.connect(URL) as conn:
        conn.execute(sql, {"day": MONTH_END}).fetchall()
        seconds = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            rows = conn.execute(sql, {"day": MONTH_END}).fetchall()
            seconds.append(time.perf_counter() - started)
    if len(rows) < GENERATOR["rms"] * 0.9:
        raise RuntimeError(f"the floor query saw only {len(rows)} RMs")
    return statistics.median(seconds)


def median_run(runs: list[Run]) -> Run:
    ordered = sorted(runs, key=lambda run: run.seconds)
    middle = ordered[len(ordered) // 2]
    return Run(middle.seconds, max(run.peak_rss_mb for run in runs), middle.output)


def periods(output: str) -> dict[str, float]:
    found = {m[1]: (m[2], float(m[5])) for m in PERIOD_LINE.finditer(output)}
    failed = [code for code, (status, _s) in found.items() if status != "done"]
    if len(found) != 3 or failed:
        raise RuntimeError(f"recompute did not score the three periods:\n{output[-3000:]}")
    return {code: seconds for code, (_status, seconds) in found.items()}


def scoring(*args: str) -> Run:
    """`manage(URL, *args)` with a statement timeout on every query of the child."""
    env = {
        "DATABASE_URL": URL,
        "WEALTHSCORE_LOG_LEVEL": "WARNING",
        "PGOPTIONS": f"-c statement_timeout={STATEMENT_TIMEOUT}",
    }
    return timed([sys.executable, "manage.py", *args], env=env)


def recompute() -> Run:
    return scoring("recompute", "--period", PERIOD)


def preview() -> Run:
    return scoring("shell", "-v", "0", "-c", PREVIEW)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []
    rebuild = "--rebuild" in sys.argv or os.environ.get("BENCH_REBUILD") == "1"
    if rebuild or built_stamp() != stamp():
        lines += build()
    else:
        print(f"set-up: {NAME} kept from an earlier run (inputs unchanged)", flush=True)
    measured = code_version()
    lines += [describe(), measured]
    print("\n".join(lines[-2:]), flush=True)

    pruned = time.perf_counter()
    psql(URL, PRUNE)
    psql(URL, "VACUUM ANALYZE scorecards_scoreline, scorecards_scorecard, scorecards_scorerun")
    print(f"earlier runs' cards deleted: {time.perf_counter() - pruned:.0f} s", flush=True)
    # Nothing kept: the first recompute computes every month of the year (reported apart; a
    # bank meets it once, when it starts scoring, or after a change of the scheme's rules).
    psql(URL, FORGET_STRETCHES)
    checkpoint()
    cold = recompute()
    split = ", ".join(f"{code} {seconds:.2f} s" for code, seconds in periods(cold.output).items())
    lines.append(
        f"first recompute with no month kept (every stretch of the year computed): "
        f"{cold.seconds:.2f} s ({split})"
    )
    print(lines[-1], flush=True)

    # The nightly case, timed: October's facts were just imported (its version raised), the
    # months before it are as the nights before left them.
    recomputes, previews = [], []
    for repeat in range(REPEATS):
        psql(URL, OCTOBER_IMPORTED)
        checkpoint()
        recomputes.append(recompute())
        psql(URL, OCTOBER_IMPORTED)
        checkpoint()
        previews.append(preview())
        split = periods(recomputes[-1].output)
        print(
            f"  run {repeat + 1}: recompute {recomputes[-1].seconds:.2f} s "
            f"({', '.join(f'{code} {seconds:.2f} s' for code, seconds in split.items())}), "
            f"preview {previews[-1].seconds:.2f} s",
            flush=True,
        )

    checkpoint()
    joined = floor(FLOOR_SQL)
    snapshot = floor(SNAPSHOT_SQL)
    lines.append(
        f"floor: GROUP BY RM over the {MONTH_END} holdings joined to the month's snapshot: "
        f"{joined:.2f} s (median of {REPEATS}, warm); over the snapshot alone {snapshot:.2f} s"
    )
    print(lines[-1], flush=True)

    run = median_run(recomputes)
    lines.append(report(f"recompute --period {PERIOD} (month, quarter, year)", run, joined, GOAL))
    splits = [periods(r.output) for r in recomputes]
    shares = {code: statistics.median(s[code] for s in splits) for code in splits[0]}
    rest = run.seconds - sum(periods(run.output).values())
    lines.append(
        "  where the time goes (medians): "
        + ", ".join(f"{code} {seconds:.2f} s" for code, seconds in shares.items())
        + f"; start-up and the rest {rest:.2f} s"
    )
    print(lines[-1], flush=True)
    shown = median_run(previews)
    inside = re.search(r"preview: .*", shown.output)
    lines.append(
        report(f"what-if preview of {PERIOD}", shown, joined, GOAL,
               f" ({inside[0] if inside else shown.output.strip()[-200:]})")
    )  # fmt: skip
    if code_version() != measured:
        lines.append(f"the code changed during the run; at its end: {code_version()}")
        print(lines[-1], flush=True)
    (WORK / "bench_scoring.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
