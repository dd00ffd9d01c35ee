"""How the sandbox responds to each key, and the balance that billable calls draw on."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SandboxProvider = Literal["openrouter", "openai"]

# Maximum latency that the control route accepts, in milliseconds.
MAX_LATENCY_MS = 60_000


class KeyBehaviour(BaseModel):
    """Body of `POST /_sandbox/keys`: how the sandbox responds to requests made with one key.

    Every field but `key` and `provider` is optional; see the package docstring for each.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    key: str = Field(min_length=1, max_length=512)
    provider: SandboxProvider
    valid: bool = True
    credits: float = 12.5
    credits_readable: bool = True
    free_tier: bool = False
    latency_ms: int = Field(default=0, ge=0, le=MAX_LATENCY_MS)
    limit: float | None = None
    usage: float = Field(default=0.0, ge=0)
    embeddings: bool = True
    models_readable: bool = True


@dataclass
class Account:
    """A key's behaviour and what billable calls have spent since it was set, in USD."""

    behaviour: KeyBehaviour
    spent: float = 0.0

    @property
    def balance(self) -> float:
        return self.behaviour.credits - self.spent

    @property
    def key_usage(self) -> float:
        """The key's own spend, counted against its `limit`."""
        return self.behaviour.usage + self.spent

    @property
    def limit_remaining(self) -> float | None:
        if self.behaviour.limit is None:
            return None
        return self.behaviour.limit - self.key_usage

    @property
    def can_pay(self) -> bool:
        """Whether a billable call succeeds: the balance and the key's cap are above zero."""
        limit_remaining = self.limit_remaining
        return self.balance > 0 and (limit_remaining is None or limit_remaining > 0)


class AccountStore:
    """Accounts by provider and key, safe to use from the server's request threads."""

    def __init__(self, initial: Iterable[KeyBehaviour] = ()) -> None:
        self._initial = tuple(initial)
        self._lock = threading.Lock()
        self._accounts: dict[tuple[str, str], Account] = {}
        self.reset()

    def reset(self) -> int:
        """Forget every change and restore the keys the store started with; return their count."""
        with self._lock:
            self._accounts = {
                (behaviour.provider, behaviour.key): Account(behaviour)
                for behaviour in self._initial
            }
            return len(self._accounts)

    def put(self, behaviour: KeyBehaviour) -> None:
        """Set or replace a key's behaviour; its spend starts again from zero."""
        with self._lock:
            self._accounts[(behaviour.provider, behaviour.key)] = Account(behaviour)

    def get(self, provider: SandboxProvider, key: str) -> Account | None:
        with self._lock:
            return self._accounts.get((provider, key))

    def charge(self, account: Account, amount_usd: float) -> bool:
        """Deduct a billable call's cost; return False, charging nothing, if it cannot pay."""
        with self._lock:
            if not account.can_pay:
                return False
            account.spent += amount_usd
            return True
