"""What a month's holdings say of each client, kept on her snapshot (ClientSnapshot): how
many non-deposit categories she holds and whether one is a trust (SPEC §5: cross-selling,
family trusts). A category is held when its balance is positive.

The import computes these from the file it loads (`crm.loaders.client_snapshots`); this is
the same rule in SQL over the stored holdings, for rows written otherwise and for months
loaded before the columns existed.
"""

from __future__ import annotations

import datetime as dt

DEPOSIT = "deposit"
TRUST = "trust"

_RESET = "UPDATE crm_clientsnapshot SET non_deposit_categories = 0, holds_trust = {false}"
_SUMMARISE = """
UPDATE crm_clientsnapshot
SET non_deposit_categories = h.categories, holds_trust = h.trust
FROM (
  SELECT client_id, as_of_date, COUNT(*) AS categories,
    MAX(CASE WHEN category = %s THEN 1 ELSE 0 END) = 1 AS trust
  FROM crm_holding
  WHERE category <> %s AND balance > 0 {month}
  GROUP BY client_id, as_of_date
) h
WHERE crm_clientsnapshot.client_id = h.client_id
  AND crm_clientsnapshot.as_of_date = h.as_of_date
"""


def summarise_holdings(connection, as_of: dt.date | None = None, *, reset: bool = True) -> None:
    """Recompute the holdings summary of the snapshots of `as_of` (every month if None).

    `reset=False` when every summary is known to be empty (the columns just added): each
    snapshot row is then written once, not twice.
    """
    false = "false" if connection.vendor == "postgresql" else "0"
    day = [as_of if connection.vendor == "postgresql" else as_of.isoformat()] if as_of else []
    with connection.cursor() as cursor:
        if reset:
            cursor.execute(
                _RESET.format(false=false) + (" WHERE as_of_date = %s" if as_of else ""), day
            )
        cursor.execute(
            _SUMMARISE.format(month="AND as_of_date = %s" if as_of else ""),
            [TRUST, DEPOSIT, *day],
        )
