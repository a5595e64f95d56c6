"""T+1 warnings (SPEC §6): each import raises an open incident for an unsuitable sale, a
sale to a client whose risk assessment had lapsed, and a non-compliant recording — once,
however often the files are imported — and the warning board shows them."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from compliance import selectors
from compliance.models import Incident, SaleCheck
from crm import services as imports
from crm.models import BatchStatus
from wealthscore.models import AuditEntry

HOLDINGS = ["as_of_date", "client_id", "client_name", "rm_employee_id", "unit_code",
            "category", "balance", "client_risk_level", "risk_assessed_on"]  # fmt: skip
SALES = ["txn_id", "txn_date", "client_id", "rm_employee_id", "product_code", "amount",
         "channel"]  # fmt: skip


def write(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def load(path: Path, kind: str):
    batch = imports.import_file(path=path, kind=kind, actor_label="test")
    assert batch.status in {BatchStatus.LOADED, BatchStatus.DUPLICATE}, batch.errors
    return batch


@pytest.fixture
def facts(bank, tmp_path):
    """Clients of Alice (A1) and Bob (B1) at the July and August month-ends."""
    load(write(tmp_path / "products.csv", ["product_code", "product_name", "category",
                                           "risk_level"],
               [("P2", "稳健理财", "wealth", "R2"), ("P4", "权益基金", "fund", "R4")]),
         "products")  # fmt: skip
    rows = []
    for day in ("2026-07-31", "2026-08-31"):
        rows += [
            (day, "0000000001", "张三丰", "000101", "A1", "deposit", "100000", "C2", "2026-03-01"),
            (day, "0000000002", "李小龙", "000101", "A1", "deposit", "100000", "C5", "2025-01-10"),
            (day, "0000000003", "王重阳", "000201", "B1", "deposit", "100000", "C3", "2026-02-01"),
        ]  # fmt: skip
    for day in ("2026-07-31", "2026-08-31"):
        load(write(tmp_path / f"holdings_{day}.csv", HOLDINGS,
                   [row for row in rows if row[0] == day]), "holdings")  # fmt: skip
    return tmp_path


def sales_file(folder: Path, name: str = "sales_2026-08.csv", amount: str = "10000") -> Path:
    return write(folder / name, SALES, [
        ("T0001", "2026-08-05", "0000000001", "000101", "P2", amount, "柜面"),  # R2 ≤ C2
        ("T0002", "2026-08-06", "0000000001", "000101", "P4", amount, "柜面"),  # R4 > C2
        ("T0003", "2026-08-07", "0000000002", "000101", "P2", amount, "柜面"),  # lapsed
        ("T0004", "2026-08-08", "0000000003", "000201", "P4", amount, "柜面"),  # R4 > C3
        ("T0005", "2026-08-09", "0000000009", "000201", "P4", amount, "柜面"),  # unknown
        ("T0006", "2026-07-20", "0000000003", "000201", "P2", amount, "柜面"),  # no snapshot
    ])  # fmt: skip


def raised() -> list[tuple]:
    return sorted(
        Incident.objects.filter(source="automatic").values_list(
            "type_id", "txn_id", "employee__employee_id", "unit__code", "occurred_on", "status"
        )
    )


EXPECTED = [
    ("stale_risk_assessment", "T0003", "000101", "A1", dt.date(2026, 8, 7), "open"),
    ("unsuitable_sale", "T0002", "000101", "A1", dt.date(2026, 8, 6), "open"),
    ("unsuitable_sale", "T0004", "000201", "B1", dt.date(2026, 8, 8), "open"),
]


def test_a_sales_import_raises_each_warning_once_however_often_it_is_imported(bank, facts):
    batch = load(sales_file(facts), "sales")
    assert raised() == EXPECTED
    assert "3 compliance warning(s) raised" in batch.message
    unsuitable = Incident.objects.get(txn_id="T0002")
    assert unsuitable.description == "产品风险等级 R4 高于客户风险承受能力 C2（交易 T0002）"
    assert unsuitable.client_id == "0000000001" and unsuitable.batch_id == batch.pk
    stale = Incident.objects.get(txn_id="T0003")
    assert stale.description == "客户风险测评日期 2025-01-10 已超过有效期 12 个月（交易 T0003）"
    # Every raised case is audited, under the import's actor.
    assert AuditEntry.objects.filter(action="incident.raise").count() == 3

    # The identical file again: a duplicate, nothing new.
    again = load(sales_file(facts, "sales_again.csv"), "sales")
    assert again.status == BatchStatus.DUPLICATE
    # A corrected file (every amount changed): the rows are replaced, the warnings stay one.
    corrected = load(sales_file(facts, "sales_fixed.csv", amount="12000"), "sales")
    assert corrected.status == BatchStatus.LOADED and corrected.rows_replaced == 6
    assert raised() == EXPECTED
    assert AuditEntry.objects.filter(action="incident.raise").count() == 3
    # Every sale is checked; an unknown client level is neither suitable nor not.
    checks = dict(SaleCheck.objects.values_list("txn_id", "suitable"))
    assert checks == {"T0001": True, "T0002": False, "T0003": True, "T0004": False,
                      "T0005": None, "T0006": None}  # fmt: skip
    assert set(SaleCheck.objects.values_list("batch_id", flat=True)) == {corrected.pk}


def test_a_dismissed_warning_is_not_raised_again_by_a_reimport(bank, facts):
    from compliance.services import incident_decide

    load(sales_file(facts), "sales")
    incident = Incident.objects.get(txn_id="T0002")
    incident_decide(incident=incident, actor=bank.users["compliance"], decision="dismiss",
                    reason="客户已签署风险揭示书")  # fmt: skip
    load(sales_file(facts, "sales_fixed.csv", amount="15000"), "sales")
    assert Incident.objects.filter(txn_id="T0002").count() == 1
    assert Incident.objects.get(txn_id="T0002").status == "dismissed"


def test_a_rejected_sales_file_raises_nothing(bank, facts):
    path = sales_file(facts)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("T0007,2026-08-10,0000000001,000101,P4,not-money,柜面\n")
    batch = imports.import_file(path=path, kind="sales", actor_label="test")
    assert batch.status == BatchStatus.REJECTED
    assert not Incident.objects.exists() and not SaleCheck.objects.exists()


def test_a_non_compliant_recording_raises_a_warning_once(bank, facts):
    header = ["check_id", "check_date", "rm_employee_id", "txn_id", "compliant"]
    rows = [("R1", "2026-08-10", "000101", "T0001", "Y"), ("R2", "2026-08-11", "000101", "", "N"),
            ("R3", "2026-08-12", "000201", "T0004", "否")]  # fmt: skip
    load(write(facts / "recording_checks.csv", header, rows), "recording_checks")
    rows[0] = ("R1", "2026-08-10", "000101", "T0001", "是")  # a corrected file
    load(write(facts / "recording_checks_2.csv", header, rows), "recording_checks")
    assert sorted(
        Incident.objects.values_list("type_id", "employee__employee_id", "description")
    ) == [
        ("non_compliant_recording", "000101", "双录抽查不合规（抽查 R2）"),
        ("non_compliant_recording", "000201", "双录抽查不合规（抽查 R3，交易 T0004）"),
    ]


def test_the_board_counts_open_cases_in_scope_and_units_whose_match_rate_fell(bank, facts):
    # July: every checked sale of both units suitable; August (above): A1 1 of 3, B1 0 of 1.
    write(facts / "sales_2026-07.csv", SALES, [
        ("T0101", "2026-07-02", "0000000001", "000101", "P2", "5000", "柜面"),
        ("T0102", "2026-07-03", "0000000003", "000201", "P2", "5000", "柜面"),
    ])  # fmt: skip
    write(facts / "holdings_2026-06-30.csv", HOLDINGS, [
        ("2026-06-30", "0000000001", "张三丰", "000101", "A1", "deposit", "1", "C2", "2026-03-01"),
        ("2026-06-30", "0000000003", "王重阳", "000201", "B1", "deposit", "1", "C3", "2026-02-01"),
    ])  # fmt: skip
    load(facts / "holdings_2026-06-30.csv", "holdings")
    load(facts / "sales_2026-07.csv", "sales")
    load(sales_file(facts), "sales")

    board = selectors.warning_board(user=bank.users["compliance"])
    assert board["open"] == 3
    assert {row["type"]: row["count"] for row in board["by_type"]} == {
        "unsuitable_sale": 2, "stale_risk_assessment": 1
    }  # fmt: skip
    assert [(row["unit_code"], row["count"]) for row in board["by_unit"]] == [("A1", 2), ("B1", 1)]
    assert board["by_rm"][0]["employee_id"] == "000101" and board["by_rm"][0]["count"] == 2
    # Aged from the events (August 2026), not from today's import (issue 17).
    ages = {row["age_days"]: row["count"] for row in board["by_age"]}
    assert ages == {"0-1": 0, "2-7": 0, "8-30": 0, "31+": 3}
    suitability = board["suitability"]
    assert (suitability["month"], suitability["previous_month"]) == ("2026-08", "2026-07")
    units = suitability["units"]
    rates = {u["unit_code"]: (str(u["rate"]), str(u["previous_rate"])) for u in units}
    assert rates == {"A1": ("66.67", "100.00"), "B1": ("0.00", "100.00")}
    assert [unit["unit_code"] for unit in suitability["fell"]] == ["A1", "B1"]

    # A manager sees his subtree only; another branch's manager the other.
    mine = selectors.warning_board(user=bank.users["manager_a"])
    assert mine["open"] == 2 and [u["unit_code"] for u in mine["suitability"]["units"]] == ["A1"]
    theirs = selectors.warning_board(user=bank.users["manager_b"], month="2026-07")
    assert theirs["open"] == 1 and theirs["suitability"]["units"][0]["rate"] is not None
