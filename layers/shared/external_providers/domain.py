"""Domain vocabulary: providers, usage kinds, provider status and credit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel


class Provider(StrEnum):
    OPENROUTER = "openrouter"
    OPENAI = "openai"

    @property
    def display_name(self) -> str:
        """The provider's name as its customers write it, for messages."""
        return _DISPLAY_NAMES[self]


_DISPLAY_NAMES = {Provider.OPENROUTER: "OpenRouter", Provider.OPENAI: "OpenAI"}


class UsageKind(StrEnum):
    MESSAGE_TOKENS = "message_tokens"
    VOICE_SECONDS = "voice_seconds"
    KNOWLEDGE_TOKENS = "knowledge_tokens"


class Status(StrEnum):
    NOT_CONFIGURED = "not_configured"
    ACTIVE = "active"
    INVALID_KEY = "invalid_key"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    INSUFFICIENT_SCOPE = "insufficient_scope"


# Text goes through OpenRouter for every model, OpenAI's included; the OpenAI key
# covers voice calls and knowledge embeddings only.
COVERAGE: dict[Provider, tuple[UsageKind, ...]] = {
    Provider.OPENROUTER: (UsageKind.MESSAGE_TOKENS,),
    Provider.OPENAI: (UsageKind.VOICE_SECONDS, UsageKind.KNOWLEDGE_TOKENS),
}


def provider_for(usage: UsageKind) -> Provider:
    """Return the provider whose key covers a usage kind."""
    return next(provider for provider, kinds in COVERAGE.items() if usage in kinds)


class Credit(BaseModel):
    """The last known balance of a provider account, in USD.

    `remaining` is None when the key may not read the balance: unknown, never zero.
    `limit` is the key's own spending cap, None when the key has no cap.
    """

    remaining: float | None
    limit: float | None
    currency: Literal["USD"] = "USD"
    checked_at: datetime
    low: bool
