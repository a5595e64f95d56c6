"""The org's stored messages: why a staff file's row is refused (crm stores them with the
batch as codes; `wealthscore.kernel.messages.render` reads them in the reader's language)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from wealthscore.kernel import messages

MESSAGES: dict[str, str] = {
    "protected_record": gettext_noop(
        "the record of a user with the admin, HR or compliance role or with access to the "
        "admin site is changed in the app by an admin, never by a file"
    ),
    "position_in_app": gettext_noop(
        "the position of an employee with a login is changed in the app by an admin"
    ),
    "reactivated_in_app": gettext_noop(
        "an employee with a login is reactivated in the app by an admin"
    ),
}

messages.register(MESSAGES)
