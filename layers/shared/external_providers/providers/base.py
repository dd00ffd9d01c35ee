"""The result every provider client returns when it checks a key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from external_providers.domain import Credit, Status


@dataclass(frozen=True)
class KeyCheck:
    """Outcome of checking a key with its provider.

    `status` is `active` when the key works and can pay; otherwise it is the status the key
    gets (`invalid_key`, `insufficient_credits` or `insufficient_scope`) and `reason` explains why
    in words a customer can act on. `credit` is None when the check did not get that far.
    """

    status: Status
    credit: Credit | None
    reason: str = ""


class ProviderClient(Protocol):
    def check_key(self, api_key: str, *, allow_spend: bool) -> KeyCheck:
        """Check that a key is valid and can pay, and read its credit.

        `allow_spend` permits one minimal billable request where the balance cannot be read;
        Save allows it, scheduled checks never do. Raises `ProviderUnavailable` when the
        provider cannot be reached, times out or fails (5xx) after the bounded retries.
        """
        ...
