"""Scoring's stored messages: why a line is not applicable, why a card has no total.

A run stores the code and its parameters (`wealthscore.kernel.messages.msg`); pages and the
API render them here, in the reader's language. Codes are stable: add, never rename.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from wealthscore.kernel import messages

REASONS: dict[str, str] = {
    # a measure has no value for the RM
    "no_value": gettext_noop("no value in the window"),
    "no_month_end_in_window": gettext_noop("no month-end balances in %(w)s"),
    "no_month_end_before_window": gettext_noop("no month-end balances before the window"),
    "no_balances_both_ends": gettext_noop("no client with balances at both ends of the window"),
    "no_hnw_client": gettext_noop("no HNW client"),
    "no_known_risk_sale": gettext_noop("no sale to a client of known risk level"),
    "no_sale_to_check": gettext_noop("no sale to check"),
    "no_plan_proposed": gettext_noop("no plan proposed"),
    "no_book_before": gettext_noop("no month-end book before %(d)s"),
    "no_dormant_client": gettext_noop("no dormant client at the window's start"),
    "few_responses": gettext_noop("fewer than 5 responses"),
    "no_recording_sampled": gettext_noop("no recording sampled"),
    "no_complaint": gettext_noop("no complaint in the window"),
    "no_manual_score": gettext_noop("no score entered for %(p)s"),
    "no_managed_client": gettext_noop("no managed client at the window's end"),
    "not_in_library": gettext_noop("not in the measure library"),
    # the engine: a value but no points
    "no_target": gettext_noop("no target"),
    "target_zero": gettext_noop("target is zero"),
    "same_zero_and_full": gettext_noop("0 and 100 points fall on the same value"),
    # a card
    "no_applicable_measure": gettext_noop("No measure of the card is applicable."),
    # a manual score refused (the form, the grid and the manual scores file)
    "manual_period_approved": gettext_noop(
        "Period %(period)s is approved: an admin must reopen it before its scores change."
    ),
}

messages.register(REASONS)


def render(value: Any) -> str:
    """A stored reason (a code with parameters, or an older row's text) in the active language."""
    return messages.render(value)
