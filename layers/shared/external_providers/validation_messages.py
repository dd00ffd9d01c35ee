"""Messages for invalid input that name each field without ever repeating the input."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

# A field name is shown only when it looks like one. Any other name came from the caller's
# input (a form body parsed into fields, a key pasted as a name) and could be a key.
SHOWABLE_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def describe_problems(
    errors: Iterable[Mapping[str, Any]], *, whole: str, skip: Collection[str] = ()
) -> str:
    """Join pydantic's errors into one message of `field: problem` parts.

    `whole` names the input when an error has no field; `skip` drops location parts that
    name where the input came from (such as `body`). Pydantic's built-in messages (`msg`) do
    not contain the input value, and unshowable field names are replaced, so the message
    contains no input. Validators of this package raise messages without input too.
    """
    problems = []
    for detail in errors:
        if detail["type"] == "json_invalid":
            problems.append(f"{whole}: not valid JSON")
            continue
        parts = [
            _showable(str(part))
            for part in detail["loc"]
            if part not in skip and not isinstance(part, int)
        ]
        problems.append(f"{'.'.join(parts) or whole}: {detail.get('msg', detail['type'])}")
    return "; ".join(problems)


def _showable(name: str) -> str:
    return name if SHOWABLE_FIELD.match(name) else "(a field whose name is not shown)"
