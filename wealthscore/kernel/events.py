"""What one layer tells the layers above it, without importing them (Django signals).

A lower layer sends; a higher one connects a receiver in its AppConfig.ready(). Receivers run
in the sender's transaction, so what they write commits or rolls back with it, and an
exception a receiver raises is the sender's (send(), not send_robust()).

Kernel: imports no app.
"""

from __future__ import annotations

from django.dispatch import Signal

#: crm, in an import's transaction, once a batch's rows are loaded (keyword: batch). Each
#: receiver returns a dict of what it raised by type (compliance: new T+1 warnings), which
#: the import reports to the uploader.
batch_loaded = Signal()

#: compliance, before decisions on incidents (keyword: cases, one dict an incident with
#: period_codes, the month, quarter and year of its date; unit_path, the incident's unit;
#: changes_cards, whether it makes or unmakes a veto). A receiver refuses the batch by
#: raising a DomainError (scorecards: an approved period is reopened first, and a branch in
#: review or approved takes no decision).
vetoes_changing = Signal()
