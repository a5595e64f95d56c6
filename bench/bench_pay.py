"""HR's pay export at bank scale (issue: pay adjustments, talent lists and HR exports).

A bank of 10,000 RMs with a scored quarter (2026-Q3) and the quarter before: `export_pay
--period 2026-Q3 --out pay.xlsx` in a new process (Django start-up, the query, the flags,
the workbook), beside the floor measured in the same run — the same command writing the
same rows as plain CSV. Goal: the XLSX in ≤ 3 s and ≤ 300 MB peak memory.

The cards are written straight into a done score run (what scoring leaves behind): the
export reads cards, staff and units, and nothing else.
"""

from __future__ import annotations

import statistics

from synthetic import bank_script

from common import WORK, fresh_database, manage

RMS = 10_000
PER_SUB_BRANCH = 10
RUNS = 3

SETUP = bank_script(
    rms=RMS, per_sub=PER_SUB_BRANCH, branches=25, periods=["2026-Q2", "2026-Q3"], lines=False
)


def main() -> None:
    url = fresh_database("wealthscore_bench_pay")
    manage(url, "shell", "-c", SETUP)
    WORK.mkdir(parents=True, exist_ok=True)
    figures: dict[str, list] = {"xlsx": [], "csv": []}
    for _ in range(RUNS):
        for fmt in ("csv", "xlsx"):
            out = WORK / f"pay.{fmt}"
            run = manage(url, "export_pay", "--period", "2026-Q3", "--out", str(out))
            assert f"Wrote {RMS} rows" in run.output, run.output
            figures[fmt].append(run)
    xlsx = statistics.median(r.seconds for r in figures["xlsx"])
    csv = statistics.median(r.seconds for r in figures["csv"])
    peak = max(r.peak_rss_mb for r in figures["xlsx"])
    verdict = "ok" if xlsx <= 3 and peak <= 300 else "OVER GOAL"
    print(
        f"pay export of {RMS:,} RMs as XLSX: {xlsx:.2f} s (goal ≤ 3 s) | peak RSS {peak:.0f} MB "
        f"(goal ≤ 300 MB) | floor, the same rows as CSV: {csv:.2f} s | ratio {xlsx / csv:.2f} "
        f"| {verdict}",
        flush=True,
    )
    print(
        "  runs (s): xlsx " + " / ".join(f"{r.seconds:.2f}" for r in figures["xlsx"])
        + " | csv " + " / ".join(f"{r.seconds:.2f}" for r in figures["csv"]),
        flush=True,
    )  # fmt: skip
    startup = statistics.median(manage(url, "shell", "-c", "pass").seconds for _ in range(RUNS))
    print(f"  of which Django start-up (manage.py shell -c pass): {startup:.2f} s", flush=True)
