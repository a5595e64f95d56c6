"""The facts behind one line of a card (its "why", SPEC §5), for every measure of the library.

A line lists exactly the rows its value was computed from, credited as the measure credits
them (`measures._credit`, the same month-end snapshots) and counted by the same rule pieces
(`measures.SUITABLE`, `measures.DORMANT`, …), with the columns that matter for that measure,
and a summary (the footer) that recomputes the value from those rows. The summary is
aggregated in SQL over every row, so a list truncated at its limit still adds up.

Each measure is one `Plan`: a derived table of its rows (one per fact, columns named), the
condition a row must meet to be listed, and the aggregates its summary is computed from.
A drill-down runs a fixed number of queries whatever the number of rows: the month-ends,
the rows (limited), the aggregates, and for a few measures one more (the categories of the
shown clients, the managed-client count, the complaints' dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from scorecards.engine import HUNDRED, Rules, round_half_up
from scorecards.runs.measures import (
    BOTH_ENDS,
    CROSS_SOLD,
    DETRACTOR,
    DORMANT,
    EDUCATION_EVENT,
    HNW_AT_END,
    HOLDS_TRUST,
    NEW_HNW,
    NPS_MIN_RESPONSES,
    PLAN_ADOPTED,
    PLAN_PROPOSED,
    PROMOTER,
    RISK_UNKNOWN,
    SUITABLE,
    TIER_POINTS,
    VISIT,
    Credit,
    SnapshotDates,
    Window,
    _credit,
    _date,
    _day,
    _dec,
    _latest_before,
    _param,
    _rows,
    closed_in_time,
    strategic_sql,
    window_of,
)
from wealthscore.kernel.identifiers import mask_name
from wealthscore.kernel.periods import Period, quarter_of

BOOLEAN_COLUMNS = {"matched", "cross_sold", "covered", "activated", "both_ends", "new_hnw",
                   "holds_trust", "compliant", "closed_in_time"}  # fmt: skip
INTEGER_COLUMNS = {"product_risk", "client_risk", "nps_score", "non_deposit_categories",
                   "visits", "points", "days_to_close"}  # fmt: skip
PYTHON_COLUMNS = {"categories", "days_to_close", "closed_in_time"}
DATE_COLUMNS = {"txn_date", "date", "resolved_date", "last_sale_before", "activating_date"}


@dataclass
class Plan:
    """One measure's rows and how its summary adds them up.

    `sql` is a derived table (aliased r) with every column of `columns`; `where` (over r)
    picks the rows listed; `totals` are aggregates over all of r, read by `summarise` with
    the count of listed rows first."""

    kind: str
    sql: str
    params: list
    columns: list[str]
    order: str
    totals: list[str]
    summarise: Callable[[list], dict]
    where: str = "1 = 1"
    as_of: dt.date | None = None
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------- the summary (footer)
def _n(value: Decimal | int) -> str:
    """A figure of the formula: whole numbers as such, others to 2 places, grouped."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{round_half_up(number):,.2f}"


def _shown(value: Decimal | None) -> str:
    return "—" if value is None else _n(value)


def _summary(
    method: str,
    value: Decimal | None,
    formula: str,
    *,
    numerator: Decimal | int | None = None,
    denominator: Decimal | int | None = None,
    parts: Sequence[tuple[str, str, Decimal | int]] | None = None,
    reason: str = "",
) -> dict:
    return {
        "method": method,
        "numerator": None if numerator is None else Decimal(numerator),
        "denominator": None if denominator is None else Decimal(denominator),
        "value": value,
        "formula": formula,
        "parts": [{"code": c, "name": name, "value": Decimal(v)} for c, name, v in parts or []],
        "reason": reason,
    }


def _percent(numerator: int, denominator: int, num_label: str, den_label: str, reason: str):
    value = HUNDRED * Decimal(numerator) / Decimal(denominator) if denominator else None
    formula = _("%(num_label)s %(num)s / %(den_label)s %(den)s = %(value)s%%") % {
        "num_label": num_label, "num": _n(numerator), "den_label": den_label,
        "den": _n(denominator), "value": _shown(value),
    }  # fmt: skip
    return _summary("percent", value, formula, numerator=numerator, denominator=denominator,
                    reason="" if value is not None else reason)  # fmt: skip


def _sum(total: Decimal | None, count: int, what: str, *, undefined: str = "") -> dict:
    value = None if undefined else _dec(total)
    formula = _("sum of %(what)s over %(count)s rows = %(value)s") % {
        "what": what, "count": _n(count), "value": _shown(value),
    }  # fmt: skip
    return _summary("sum", value, formula, numerator=_dec(total), reason=undefined)


def _count(count: int, what: str, *, undefined: str = "") -> dict:
    value = None if undefined else Decimal(count)
    formula = _("%(what)s: %(count)s") % {"what": what, "count": _n(count)}
    return _summary("count", value, formula, numerator=count, reason=undefined)


def _int(value) -> int:
    return int(value or 0)


# ---------------------------------------------------------------- the plans, per measure
def _client_name(day: str) -> str:
    return f"COALESCE(f.snap_name, {_latest_before('name', day)}, '')"


def _sales(measure: str, rules: Rules, window: Window, snapshots: SnapshotDates, rm: str) -> Plan:
    month_ends = snapshots.month_ends(window.first, window.last)
    credit = _credit("crm_sale", "txn_date", rules.basis, window, month_ends)
    strategic, tags = strategic_sql()
    sql = f"""
        SELECT f.txn_id AS txn_id, f.txn_date AS txn_date, f.client_id AS client_id,
          {_client_name("txn_date")} AS client_name, f.product_code AS product_code,
          p.name AS product_name, p.risk_level AS product_risk, {credit.risk} AS client_risk,
          p.strategic_tag AS strategic_tag, CASE WHEN {strategic} THEN 1 ELSE 0 END AS strategic,
          f.amount AS amount, f.fee_income AS fee_income, f.rm_employee_id AS keyed_by
        FROM {credit.source} JOIN crm_product p ON p.product_code = f.product_code
        WHERE f.txn_date BETWEEN %s AND %s AND {credit.rm} = %s
    """
    params = [*tags, *credit.params, _param(window.first), _param(window.last), rm]
    # matched is unknown (null) for a client of no known risk level: not counted either way.
    matched = f"CASE WHEN {RISK_UNKNOWN} THEN NULL WHEN {SUITABLE} THEN 1 ELSE 0 END"
    sql = f"SELECT s.*, {matched} AS matched FROM ({sql}) s"
    client = ["txn_id", "txn_date", "client_id", "client_name"]
    base: dict[str, Any] = dict(kind="sales", sql=sql, params=params, order="txn_date, txn_id")
    if measure == "suitability_match":
        return Plan(
            **base,
            columns=[
                *client,
                "product_code",
                "product_name",
                "product_risk",
                "client_risk",
                "matched",
            ],  # fmt: skip
            totals=[
                f"SUM(CASE WHEN {RISK_UNKNOWN} THEN 0 ELSE 1 END)",
                f"SUM(CASE WHEN {SUITABLE} THEN 1 ELSE 0 END)",
            ],  # fmt: skip
            summarise=lambda t: _percent(
                _int(t[2]),
                _int(t[1]),
                _("matched"),
                _("sales to clients of known risk"),
                _("no sale to a client of known risk level"),
            ),
        )
    if measure == "strategic_sales":
        return Plan(
            **base,
            columns=[*client, "product_code", "product_name", "strategic_tag", "amount"],
            where="strategic = 1",
            totals=["SUM(CASE WHEN strategic = 1 THEN amount ELSE 0 END)"],
            summarise=lambda t: _sum(t[1], _int(t[0]), _("strategic sales amount")),
        )
    if measure == "fee_income":
        return Plan(
            **base,
            columns=[*client, "product_code", "product_name", "amount", "fee_income", "keyed_by"],
            totals=["SUM(COALESCE(fee_income, 0))"],
            summarise=lambda t: _sum(t[1], _int(t[0]), _("fee income")),
        )
    return Plan(
        **base,
        columns=[*client, "product_code", "product_name", "amount", "fee_income", "keyed_by"],
        totals=["SUM(amount)"],
        summarise=lambda t: _sum(t[1], _int(t[0]), _("sales amount")),
    )


def _stock(
    measure: str, rules: Rules, window: Window, snapshots: SnapshotDates, rm: str
) -> Plan | dict:
    end, start = snapshots.end_of(window), snapshots.start_of(window)
    if end is None:
        return {"reason": _("no month-end balances in %(w)s") % {"w": window}}
    start_join = (
        "LEFT JOIN crm_clientsnapshot s ON s.client_id = e.client_id AND s.as_of_date = %s"
        if start
        else "LEFT JOIN crm_clientsnapshot s ON s.client_id = e.client_id AND 1 = 0"
    )
    hnw, affluent = rules.hnw_threshold, rules.affluent_threshold
    # The window's visits to her clients at the end, read once through the date index (no
    # index leads with the client: a count per client would scan the window per client).
    visited = (
        "LEFT JOIN (SELECT a.client_id, COUNT(*) AS n FROM crm_activity a "
        "WHERE a.activity_type = %s AND a.activity_date BETWEEN %s AND %s AND a.client_id IN "
        "(SELECT m.client_id FROM crm_clientsnapshot m WHERE m.as_of_date = %s "
        "AND m.rm_employee_id = %s) GROUP BY a.client_id) v ON v.client_id = e.client_id"
        if measure == "hnw_visit_coverage"
        else ""
    )
    sql = f"""
        SELECT e.client_id AS client_id, e.name AS client_name, e.client_risk_level AS client_risk,
          s.total_balance AS balance_start, e.total_balance AS balance_end,
          e.total_balance - COALESCE(s.total_balance, 0) AS balance_change,
          CASE WHEN {BOTH_ENDS} THEN 1 ELSE 0 END AS both_ends,
          CASE WHEN {HNW_AT_END} THEN 'hnw' WHEN {HNW_AT_END} THEN 'affluent'
            ELSE 'mass' END AS tier,
          CASE WHEN {NEW_HNW} THEN 1 ELSE 0 END AS new_hnw,
          CASE WHEN {HOLDS_TRUST} THEN 1 ELSE 0 END AS holds_trust,
          e.non_deposit_categories AS non_deposit_categories,
          CASE WHEN {CROSS_SOLD} THEN 1 ELSE 0 END AS cross_sold,
          {"COALESCE(v.n, 0)" if visited else "0"} AS visits
        FROM crm_clientsnapshot e {start_join} {visited}
        WHERE e.as_of_date = %s AND e.rm_employee_id = %s
    """
    visit_params = (
        [VISIT, _param(window.first), _param(window.last), _param(end), rm] if visited else []
    )
    params = [hnw, affluent, hnw, hnw, *([_param(start)] if start else []), *visit_params,
              _param(end), rm]  # fmt: skip
    points = (
        f"CASE tier WHEN 'hnw' THEN {TIER_POINTS['hnw']} "
        f"WHEN 'affluent' THEN {TIER_POINTS['affluent']} ELSE {TIER_POINTS['mass']} END"
    )
    sql = f"SELECT c.*, {points} AS points, CASE WHEN visits > 0 THEN 1 ELSE 0 END AS covered " \
          f"FROM ({sql}) c"  # fmt: skip
    client = ["client_id", "client_name"]
    no_client = _("no managed client at the window's end")
    no_start = _("no month-end balances before the window")
    base: dict[str, Any] = dict(kind="clients", sql=sql, params=params, as_of=end,
                order="balance_end DESC, client_id")  # fmt: skip
    # Each summary reads the managed-client count (t[1]) first: none is no value at all.
    if measure == "aum_net_growth":
        return Plan(
            **base,
            columns=[*client, "balance_start", "balance_end", "balance_change"],
            totals=["COUNT(*)", "SUM(balance_change)"],
            summarise=lambda t: _sum(
                t[2], _int(t[0]), _("balance change"),
                undefined=no_client if not t[1] else (no_start if start is None else ""),
            ),
        )  # fmt: skip
    if measure == "aum_existing_uplift":
        return Plan(
            **base,
            columns=[*client, "balance_start", "balance_end", "both_ends"],
            where="both_ends = 1",
            totals=[
                "COUNT(*)",
                "SUM(CASE WHEN both_ends = 1 THEN balance_end ELSE 0 END)",
                "SUM(CASE WHEN both_ends = 1 THEN balance_start ELSE 0 END)",
            ],  # fmt: skip
            summarise=lambda t: _uplift(_dec(t[2]), _dec(t[3]), no_client if not t[1] else ""),
        )
    if measure == "hnw_visit_coverage":
        return Plan(
            **base,
            columns=[*client, "tier", "balance_end", "visits", "covered"],
            where="tier = 'hnw'",
            totals=["COUNT(*)", "SUM(CASE WHEN tier = 'hnw' AND covered = 1 THEN 1 ELSE 0 END)"],
            summarise=lambda t: _percent(
                _int(t[2]), _int(t[0]), _("HNW clients visited"), _("HNW clients"),
                no_client if not t[1] else _("no HNW client"),
            ),
        )  # fmt: skip
    if measure == "new_hnw_clients":
        return Plan(
            **base,
            columns=[*client, "balance_start", "balance_end", "tier", "new_hnw"],
            where="new_hnw = 1",
            totals=["COUNT(*)"],
            summarise=lambda t: _count(
                _int(t[0]), _("new HNW clients"),
                undefined=no_client if not t[1] else (no_start if start is None else ""),
            ),
        )  # fmt: skip
    if measure == "client_points":
        return Plan(
            **base,
            columns=[*client, "balance_end", "tier", "points"],
            totals=[
                "COUNT(*)",
                "SUM(CASE WHEN tier = 'hnw' THEN 1 ELSE 0 END)",
                "SUM(CASE WHEN tier = 'affluent' THEN 1 ELSE 0 END)",
            ],  # fmt: skip
            summarise=lambda t: _points(_int(t[1]), _int(t[2]), _int(t[3]), no_client),
        )
    if measure == "cross_sell_coverage":
        return Plan(
            **{**base, "order": "cross_sold DESC, non_deposit_categories DESC, client_id"},
            columns=[*client, "non_deposit_categories", "categories", "cross_sold"],
            totals=["SUM(cross_sold)"],
            summarise=lambda t: _percent(
                _int(t[1]), _int(t[0]), _("clients with 2+ non-deposit categories"),
                _("managed clients"), no_client,
            ),
            extra={"categories_at": end},
        )  # fmt: skip
    if measure == "family_trust_clients":
        return Plan(
            **base,
            columns=[*client, "balance_end", "holds_trust"],
            where="holds_trust = 1",
            totals=["COUNT(*)"],
            summarise=lambda t: _count(
                _int(t[0]), _("clients holding a trust"), undefined=no_client if not t[1] else ""
            ),
        )
    # complaint_rate: the complaints, over the managed clients at the window's end.
    raise AssertionError(measure)


def _uplift(sum_end: Decimal, sum_start: Decimal, undefined: str) -> dict:
    reason = undefined or (
        _("no client with balances at both ends of the window") if sum_start == 0 else ""
    )
    value = None if reason else HUNDRED * (sum_end / sum_start - 1)
    formula = _("(%(end_label)s %(end)s / %(start_label)s %(start)s − 1) × 100 = %(value)s%%") % {
        "end_label": _("balances at the end"), "end": _n(sum_end),
        "start_label": _("balances at the start"), "start": _n(sum_start), "value": _shown(value),
    }  # fmt: skip
    return _summary("uplift", value, formula, numerator=sum_end, denominator=sum_start,
                    reason=reason)  # fmt: skip


def _points(clients: int, hnw: int, affluent: int, no_client: str) -> dict:
    mass = clients - hnw - affluent
    value = (
        Decimal(
            TIER_POINTS["hnw"] * hnw + TIER_POINTS["affluent"] * affluent
            + TIER_POINTS["mass"] * mass
        )
        if clients
        else None
    )  # fmt: skip
    formula = _("%(h_pts)s × HNW %(h)s + %(a_pts)s × affluent %(a)s + %(m_pts)s × mass %(m)s "
                "= %(value)s") % {
        "h_pts": TIER_POINTS["hnw"], "h": hnw, "a_pts": TIER_POINTS["affluent"], "a": affluent,
        "m_pts": TIER_POINTS["mass"], "m": mass, "value": _shown(value),
    }  # fmt: skip
    parts = [("hnw", _("HNW"), hnw), ("affluent", _("affluent"), affluent),
             ("mass", _("mass"), mass)]  # fmt: skip
    return _summary("points", value, formula, numerator=value, parts=parts,
                    reason="" if clients else no_client)  # fmt: skip


def _dormant(rules: Rules, window: Window, snapshots: SnapshotDates, rm: str) -> Plan | dict:
    start = snapshots.start_of(window)
    if start is None:
        return {"reason": _("no month-end book before %(d)s") % {"d": window.first}}
    since = window.first - dt.timedelta(days=rules.dormant_days)
    in_window = "b.client_id = s.client_id AND b.txn_date BETWEEN %s AND %s"
    first, last = _param(window.first), _param(window.last)
    sql = f"""
        SELECT s.client_id AS client_id, s.name AS client_name, s.total_balance AS balance_start,
          (SELECT MAX(x.txn_date) FROM crm_sale x WHERE x.client_id = s.client_id
             AND x.txn_date < %s) AS last_sale_before,
          (SELECT b.txn_id FROM crm_sale b WHERE {in_window}
             ORDER BY b.txn_date, b.txn_id LIMIT 1) AS activating_txn_id,
          (SELECT MIN(b.txn_date) FROM crm_sale b WHERE {in_window}) AS activating_date
        FROM crm_clientsnapshot s
        WHERE s.as_of_date = %s AND s.rm_employee_id = %s AND {DORMANT}
    """
    params = [first, first, last, first, last, _param(start), rm, _param(since), first]
    sql = f"SELECT d.*, CASE WHEN activating_date IS NULL THEN 0 ELSE 1 END AS activated " \
          f"FROM ({sql}) d"  # fmt: skip
    return Plan(
        kind="clients", sql=sql, params=params, as_of=start,
        columns=["client_id", "client_name", "balance_start", "last_sale_before",
                 "activating_txn_id", "activating_date", "activated"],
        order="activated DESC, client_id",
        totals=["SUM(activated)"],
        summarise=lambda t: _percent(
            _int(t[1]), _int(t[0]), _("activated"), _("dormant clients"),
            _("no dormant client at the window's start"),
        ),
    )  # fmt: skip


def _events(measure: str, rules: Rules, window: Window, snapshots: SnapshotDates, rm: str):
    """Surveys, activities and complaints (credited to the client's manager on the fact's
    day), recording checks (always the RM's own)."""
    table, day, kind = {
        "nps": ("crm_survey", "survey_date", "surveys"),
        "plan_adoption": ("crm_activity", "activity_date", "activities"),
        "education_events": ("crm_activity", "activity_date", "activities"),
        "script_compliance": ("crm_recordingcheck", "check_date", "recording_checks"),
        "complaint_rate": ("crm_complaint", "received_date", "complaints"),
        "complaint_resolution": ("crm_complaint", "received_date", "complaints"),
    }[measure]
    if table == "crm_recordingcheck":
        # A recording is the RM's own work (measures.recordings).
        credit = Credit(f"{table} f", [], "f.rm_employee_id", "NULL")
        client = "NULL AS client_id, '' AS client_name"
    else:
        month_ends = snapshots.month_ends(window.first, window.last)
        credit = _credit(table, day, rules.basis, window, month_ends)
        client = f"f.client_id AS client_id, {_client_name(day)} AS client_name"
    own = {
        "crm_survey": "f.response_id AS response_id, f.nps_score AS nps_score",
        "crm_activity": "f.activity_id AS activity_id, f.activity_type AS activity_type",
        "crm_recordingcheck": "f.check_id AS check_id, f.txn_id AS txn_id, "
        "CASE WHEN f.compliant THEN 1 ELSE 0 END AS compliant",
        "crm_complaint": "f.complaint_id AS complaint_id, f.category AS category, "
        "f.resolved_date AS resolved_date",
    }[table]
    sql = f"""
        SELECT f.{day} AS date, {client}, {own} FROM {credit.source}
        WHERE f.{day} BETWEEN %s AND %s AND {credit.rm} = %s
    """
    params = [*credit.params, _param(window.first), _param(window.last), rm]
    head = ["date", "client_id", "client_name"]
    base: dict[str, Any] = dict(kind=kind, sql=sql, params=params)
    if measure == "nps":
        group = (f"CASE WHEN {PROMOTER} THEN 'promoter' WHEN {DETRACTOR} THEN 'detractor' "
                 f"ELSE 'passive' END")  # fmt: skip
        base["sql"] = f"SELECT v.*, {group} AS nps_group FROM ({sql}) v"
        return Plan(
            **base,
            columns=[*head, "response_id", "nps_score", "nps_group"],
            order="date, response_id",
            totals=[
                f"SUM(CASE WHEN {PROMOTER} THEN 1 ELSE 0 END)",
                f"SUM(CASE WHEN {DETRACTOR} THEN 1 ELSE 0 END)",
            ],  # fmt: skip
            summarise=lambda t: _nps(_int(t[0]), _int(t[1]), _int(t[2])),
        )
    if measure in ("plan_adoption", "education_events"):
        kinds = [PLAN_PROPOSED, PLAN_ADOPTED] if measure == "plan_adoption" else [EDUCATION_EVENT]
        base["sql"] = sql.rstrip() + f" AND f.activity_type IN ({', '.join(['%s'] * len(kinds))})"
        base["params"] = [*params, *kinds]
        if measure == "education_events":
            return Plan(
                **base, columns=[*head, "activity_id", "activity_type"], order="date, activity_id",
                totals=[], summarise=lambda t: _count(_int(t[0]), _("investor-education events")),
            )  # fmt: skip
        return Plan(
            **base, columns=[*head, "activity_id", "activity_type"], order="date, activity_id",
            totals=[f"SUM(CASE WHEN activity_type = '{PLAN_PROPOSED}' THEN 1 ELSE 0 END)",
                    f"SUM(CASE WHEN activity_type = '{PLAN_ADOPTED}' THEN 1 ELSE 0 END)"],
            summarise=lambda t: _percent(_int(t[2]), _int(t[1]), _("plans adopted"),
                                         _("plans proposed"), _("no plan proposed")),
        )  # fmt: skip
    if measure == "script_compliance":
        return Plan(
            **base, columns=["date", "check_id", "txn_id", "compliant"], order="date, check_id",
            totals=["SUM(compliant)"],
            summarise=lambda t: _percent(_int(t[1]), _int(t[0]), _("compliant recordings"),
                                         _("recordings checked"), _("no recording sampled")),
        )  # fmt: skip
    columns = [*head, "complaint_id", "category", "resolved_date"]
    if measure == "complaint_resolution":
        columns += ["days_to_close", "closed_in_time"]
    return Plan(
        **base, columns=columns, order="date, complaint_id", totals=[],
        summarise=lambda t: {},  # completed in `line_facts` (`_complaints`)
        extra={"complaints": measure, "end": snapshots.end_of(window)},
    )  # fmt: skip


def _nps(responses: int, promoters: int, detractors: int) -> dict:
    value = (
        HUNDRED * Decimal(promoters - detractors) / responses
        if responses >= NPS_MIN_RESPONSES
        else None
    )
    formula = _("(promoters %(p)s − detractors %(d)s) / responses %(n)s × 100 = %(value)s") % {
        "p": promoters, "d": detractors, "n": responses, "value": _shown(value),
    }  # fmt: skip
    parts = [("promoters", _("promoters"), promoters),
             ("passives", _("passives"), responses - promoters - detractors),
             ("detractors", _("detractors"), detractors)]  # fmt: skip
    return _summary("net_promoter", value, formula, numerator=promoters - detractors,
                    denominator=responses, parts=parts,
                    reason="" if value is not None else _("fewer than 5 responses"))  # fmt: skip


def _complaints(plan: Plan, rm: str, count: int) -> dict:
    """complaint_resolution counts with `closed_in_time` over every complaint's two dates;
    complaint_rate divides the count by the clients managed at the window's end."""
    if plan.extra["complaints"] == "complaint_resolution":
        dates = _rows(f"SELECT date, resolved_date FROM ({plan.sql}) r", plan.params)
        closed = sum(
            closed_in_time(_day(received), _date(resolved)) for received, resolved in dates
        )
        return _percent(closed, count, _("closed within 15 days"), _("complaints"),
                        _("no complaint in the window"))  # fmt: skip
    end = plan.extra["end"]
    managed = 0
    if end is not None:
        sql = (
            "SELECT COUNT(*) FROM crm_clientsnapshot WHERE as_of_date = %s AND rm_employee_id = %s"
        )
        managed = _int(_rows(sql, [_param(end), rm])[0][0])
    value = Decimal(1000) * count / managed if managed else None
    formula = _("complaints %(c)s / managed clients %(m)s × 1000 = %(value)s") % {
        "c": count, "m": managed, "value": _shown(value),
    }  # fmt: skip
    reason = "" if managed else _("no managed client at the window's end")
    return _summary(
        "per_thousand", value, formula, numerator=count, denominator=managed, reason=reason
    )


# ---------------------------------------------------------------- the drill-down
STOCK_PLANS = {"aum_net_growth", "aum_existing_uplift", "hnw_visit_coverage", "new_hnw_clients",
               "client_points", "cross_sell_coverage", "family_trust_clients"}  # fmt: skip
SALES_PLANS = {"sales_attainment", "suitability_match", "strategic_sales", "fee_income"}
EVENT_PLANS = {"nps", "plan_adoption", "education_events", "script_compliance",
               "complaint_rate", "complaint_resolution"}  # fmt: skip


def _plan(measure: str, rules: Rules, window: Window, rm: str) -> Plan | dict | None:
    snapshots = SnapshotDates()
    if measure in SALES_PLANS:
        return _sales(measure, rules, window, snapshots, rm)
    if measure in STOCK_PLANS:
        return _stock(measure, rules, window, snapshots, rm)
    if measure == "dormant_activation":
        return _dormant(rules, window, snapshots, rm)
    if measure in EVENT_PLANS:
        return _events(measure, rules, window, snapshots, rm)
    return None


def line_facts(
    period: Period, rules: Rules, measure: str, employee_id: str, *, limit: int = 500
) -> dict:
    """The rows a line of `employee_id` was computed from, with the same credit rules as the
    measure (client names masked), and the summary that recomputes its value from them:
    {"kind", "window", "as_of", "rows", "count", "truncated", "summary"}."""
    rule = next((r for r in rules.rules if r.measure == measure), None)
    if rule is None:
        return {"kind": "none", "rows": [], "truncated": False, "count": 0}
    window = window_of(period, rule.window)
    result: dict = {"window": str(window), "truncated": False}
    if rule.method == "manual":
        return {**result, **_manual(period, measure, employee_id)}
    plan = _plan(measure, rules, window, employee_id)
    if plan is None:
        return {**result, "kind": "none", "rows": [], "count": 0}
    if isinstance(plan, dict):  # no month-end to read: nothing behind the line, and why
        kind = "clients"
        summary = _summary("count", None, plan["reason"], reason=plan["reason"])
        return {**result, "kind": kind, "as_of": None, "rows": [], "count": 0, "summary": summary}
    # A few columns are not read by SQL but added to the shown rows (`PYTHON_COLUMNS`).
    read = [c for c in plan.columns if c not in PYTHON_COLUMNS]
    listed = ", ".join(read)
    rows = _rows(
        f"SELECT {listed} FROM ({plan.sql}) r WHERE {plan.where} "
        f"ORDER BY {plan.order} LIMIT {int(limit) + 1}",
        plan.params,
    )
    totals = list(
        _rows(
            f"SELECT SUM(CASE WHEN {plan.where} THEN 1 ELSE 0 END)"
            + "".join(f", {total}" for total in plan.totals)
            + f" FROM ({plan.sql}) r",
            plan.params,
        )[0]
    )
    count = _int(totals[0])
    totals[0] = count
    summary = (
        _complaints(plan, employee_id, count) if "complaints" in plan.extra
        else plan.summarise(totals)
    )  # fmt: skip
    named = [_row(read, row) for row in rows[:limit]]
    if "categories_at" in plan.extra:
        _add_categories(named, plan.extra["categories_at"])
    for row in named:
        if "closed_in_time" in plan.columns:
            received, resolved = _day(row["date"]), _date(row["resolved_date"])
            row["closed_in_time"] = closed_in_time(received, resolved)
            row["days_to_close"] = (resolved - received).days if resolved else None
    named = [{c: row.get(c) for c in plan.columns} for row in named]  # in the plan's order
    if plan.as_of is not None or plan.kind == "clients":
        result["as_of"] = plan.as_of.isoformat() if plan.as_of else None
    return {**result, "kind": plan.kind, "rows": named, "truncated": len(rows) > limit,
            "count": count, "summary": summary}  # fmt: skip


def _row(columns: list[str], row: tuple) -> dict:
    named = dict(zip(columns, row, strict=True))
    for key, value in named.items():
        if key == "client_name":
            named[key] = mask_name(value or "")
        elif value is None:
            continue
        elif key in BOOLEAN_COLUMNS:
            named[key] = bool(int(value))
        elif key in INTEGER_COLUMNS:
            named[key] = int(value)
        elif key in DATE_COLUMNS:
            named[key] = _date(value)
        elif isinstance(value, float | Decimal):
            named[key] = str(_dec(value))
    return named


def _add_categories(rows: list[dict], as_of: dt.date) -> None:
    """Which non-deposit categories each shown client held (crm.holdings' rule: a positive
    balance), in one query for the shown rows."""
    from crm.holdings import DEPOSIT

    clients = [row["client_id"] for row in rows]
    held: dict[str, list[str]] = {client: [] for client in clients}
    if clients:
        marks = ", ".join(["%s"] * len(clients))
        sql = (
            f"SELECT client_id, category FROM crm_holding WHERE as_of_date = %s "
            f"AND category <> %s AND balance > 0 AND client_id IN ({marks}) "
            f"ORDER BY client_id, category"
        )
        for client, category in _rows(sql, [_param(as_of), DEPOSIT, *clients]):
            held[client].append(category)
    for row in rows:
        row["categories"] = held[row["client_id"]]


def _manual(period: Period, measure: str, employee_id: str) -> dict:
    from scorecards.models import ManualScore

    # A month shows its quarter's committee score (measures.Computation.manual).
    code = quarter_of(period).code if period.kind == "month" else period.code
    scores = list(
        ManualScore.objects.filter(
            period=code, measure=measure, employee__employee_id=employee_id
        ).values("period", "score", "comment", "entered_at")
    )
    value = scores[0]["score"] if scores else None
    reason = "" if scores else _("no score entered for %(p)s") % {"p": code}
    formula = _("entered score = %(value)s") % {"value": _shown(value)}
    summary = _summary("manual", value, formula, numerator=value, reason=reason)
    return {"kind": "manual_scores", "rows": scores, "count": len(scores), "summary": summary}
