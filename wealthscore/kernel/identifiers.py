"""What an identifier may not contain: one rule for imports, the API and the pages.

An employee ID, a client number or a unit code with a zero-width space, a byte-order mark or
a non-breaking space looks exactly like the real one on every screen, so it would create a
look-alike employee or client that no one can tell apart. Full-width digits and letters
(１２３, Ａ) are the same trap from a Chinese input method. Such identifiers are refused,
naming the character, rather than silently "cleaned": the source system holds the wrong key
and must be corrected there.
"""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext_noop

from wealthscore.kernel import messages
from wealthscore.kernel.messages import Message, msg

# Control (Cc), format (Cf: zero-width spaces, BOM, direction marks), unassigned, private and
# surrogate code points, and every separator but the ASCII space (NBSP, U+3000, line and
# paragraph separators).
_INVISIBLE = frozenset({"Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp", "Zs"})


def character_name(char: str) -> str:
    """'\u200b' -> 'U+200B ZERO WIDTH SPACE' (the form the row errors show)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


MESSAGES = {
    "invisible_character": gettext_noop("contains the invisible character %(char)s"),
    "full_width_character": gettext_noop(
        "contains the full-width character %(char)s; use the ordinary one"
    ),
}
messages.register(MESSAGES)


def identifier_problem(value: str) -> str | None:
    """Why `value` cannot be an identifier, naming the first offending character; else None."""
    problem = identifier_problem_message(value)
    return None if problem is None else messages.render(problem)


def identifier_problem_message(value: str) -> Message | None:
    """The same as a code with parameters, as an import batch stores it."""
    for char in value:
        if char.isascii() and (char.isprintable()):
            continue
        category = unicodedata.category(char)
        if category in _INVISIBLE and char != " ":
            return msg("invisible_character", char=character_name(char))
        if unicodedata.east_asian_width(char) == "F":
            return msg("full_width_character", char=character_name(char))
    return None


def identifier_problems(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, list[Message]]:
    """The rule over a whole column: (index into `reasons` per row, null when fine; reasons).

    Identifiers are ASCII in practice, so one vectorised test finds the rare rows with any
    other character and only their distinct values go through `identifier_problem`.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    suspect = pc.fill_null(pc.invert(pc.string_is_ascii(values)), False)
    # Control characters are ASCII too: \x00-\x1f and \x7f.
    controls = pc.match_substring_regex(values, r"[\x00-\x1f\x7f]")
    suspect = pc.or_(suspect, pc.fill_null(controls, False))
    if not pc.any(suspect).as_py():
        return pa.nulls(len(values), pa.int32()), []
    distinct = pc.unique(pc.filter(values, suspect)).to_pylist()
    reasons: list[Message] = []
    problem_of: dict[str, int] = {}
    for value in distinct:
        reason = identifier_problem_message(value)
        if reason is not None:
            problem_of[value] = len(reasons)
            reasons.append(reason)
    if not reasons:
        return pa.nulls(len(values), pa.int32()), []
    keys = pa.array(list(problem_of), pa.string())
    found = pc.index_in(values, value_set=keys)
    codes = pc.take(pa.array(list(problem_of.values()), pa.int32()), found)
    return pc.if_else(suspect, codes, pa.scalar(None, pa.int32())), reasons


def validate_identifier(value: str) -> None:
    """The rule as a field validator (forms, DRF serializers, path parameters)."""
    from django.core.exceptions import ValidationError

    problem = identifier_problem(value)
    if problem is not None:
        raise ValidationError(problem, code="invalid_identifier")


# ---------------------------------------------------------------- names on screen
def mask_name(name: str) -> str:
    """张*三; a two-character name 张*; a single character stays (SPEC §4)."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
