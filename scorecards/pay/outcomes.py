"""Pay and talent outcomes of the scores (SPEC §7), as pure functions over Decimals.

- Quarterly pay band: total ≥ top_from → top_pct; ≥ pass_from → pass_pct; below, or
  vetoed → fail_pct (the policy in force on the quarter's last day).
- A failing quarter is one below the pass mark or vetoed; two in a row, across a year end
  too, flag the RM for reassignment or training (调岗或待岗培训).
- The annual ranking: vetoed last, then total descending, competition ranks. The first
  ceil(20 % N) places, extended to ties and never vetoed, have promotion priority; the last
  ceil(10 % N) places, extended to ties, plus every vetoed RM, get an improvement plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scorecards.engine import competition_ranks

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
DEFAULT_POLICY = {
    "effective_from": dt.date(2000, 1, 1),
    "top_from": Decimal("90.00"),
    "top_pct": Decimal("20.00"),
    "pass_from": Decimal("60.00"),
    "pass_pct": Decimal("0.00"),
    "fail_pct": Decimal("-30.00"),
    "note": "SPEC §7: ≥ 90 → +20 %; 60–90 → 0 %; < 60 or vetoed → −30 %",
}
PROMOTION_SHARE, IMPROVEMENT_SHARE = 20, 10  # per cent of the ranked RMs


def install_default_pay_policy(pay_policy_model) -> None:
    """The SPEC's bands, unless a policy exists (migration 0006, and install_defaults()
    after a flush). `pay_policy_model` is the historical model or the current one."""
    if not pay_policy_model.objects.exists():
        pay_policy_model.objects.create(**DEFAULT_POLICY)


@dataclass(frozen=True)
class Bands:
    top_from: Decimal
    top_pct: Decimal
    pass_from: Decimal
    pass_pct: Decimal
    fail_pct: Decimal


def band_of(total: Decimal | None, vetoed: bool, bands: Bands) -> tuple[str, Decimal | None]:
    """(band, adjustment %) of a quarter card; a card with no total and no veto has none."""
    if vetoed:
        return "vetoed", bands.fail_pct
    if total is None:
        return "no_total", None
    if total >= bands.top_from:
        return "top", bands.top_pct
    if total >= bands.pass_from:
        return "pass", bands.pass_pct
    return "fail", bands.fail_pct


def is_failing(total: Decimal | None, vetoed: bool, bands: Bands) -> bool:
    return vetoed or (total is not None and total < bands.pass_from)


def adjusted_pay(base: Decimal | None, pct: Decimal | None) -> Decimal | None:
    """Base performance pay × (1 + adjustment), to the fen, rounded half-up once."""
    if base is None or pct is None:
        return None
    return (base * (HUNDRED + pct) / HUNDRED).quantize(CENT, ROUND_HALF_UP)


def _ceil_share(n: int, share: int) -> int:
    return -(-n * share // 100)


@dataclass(frozen=True)
class Placing:
    rank: int
    promotion: bool
    improvement: bool


def talent_placings(entries: Sequence[tuple[str, Decimal | None, bool]]) -> dict[str, Placing]:
    """Placings of (key, total, vetoed) entries; a card with neither total nor veto is not
    ranked. An RM is never on both lists: where a tiny or all-tied ranking puts her in both
    the first and the last places, promotion stands (a veto is never promoted)."""
    ranks = competition_ranks(entries)
    n = len(ranks)
    top, bottom = _ceil_share(n, PROMOTION_SHARE), _ceil_share(n, IMPROVEMENT_SHARE)
    group_size: dict[int, int] = {}
    for rank in ranks.values():
        group_size[rank] = group_size.get(rank, 0) + 1
    vetoed = {key for key, _total, veto in entries if veto}
    placings = {}
    for key, rank in ranks.items():
        promotion = key not in vetoed and rank <= top
        last_place = rank + group_size[rank] - 1  # ties share the group's places
        improvement = not promotion and (key in vetoed or last_place > n - bottom)
        placings[key] = Placing(rank, promotion, improvement)
    return placings
