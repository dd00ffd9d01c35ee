"""Demo keys preloaded in the sandbox, one for each case worth trying by hand.

The keys are fake and only the sandbox accepts them. Each has the length of a real key of
its kind and ends in a distinct four-digit number, so key hints tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.sandbox.accounts import KeyBehaviour, SandboxProvider

# Lengths of real keys: OpenRouter `sk-or-v1-` + 64 hex digits, OpenAI project keys
# `sk-proj-` + 156 characters, legacy OpenAI keys `sk-` + 48.
OPENROUTER_KEY_LENGTH = 73
OPENAI_PROJECT_KEY_LENGTH = 164
OPENAI_LEGACY_KEY_LENGTH = 51


@dataclass(frozen=True)
class DemoKey:
    """A preloaded key: `options` are its fields of `POST /_sandbox/keys` besides the key."""

    name: str
    key: str
    provider: SandboxProvider
    description: str
    options: dict[str, Any] = field(default_factory=dict)

    def control_body(self) -> dict[str, Any]:
        """Return the body of `POST /_sandbox/keys` that sets this key up."""
        return {"key": self.key, "provider": self.provider, **self.options}

    def behaviour(self) -> KeyBehaviour:
        return KeyBehaviour.model_validate(self.control_body())


def demo_key(stem: str, length: int, number: int) -> str:
    """Pad `stem` with zeros to `length` characters, ending in a four-digit `number`."""
    return stem + "0" * (length - len(stem) - 4) + f"{number:04d}"


DEMO_KEYS: list[DemoKey] = [
    DemoKey(
        name="openrouter-funded",
        key=demo_key("sk-or-v1-demo-funded-", OPENROUTER_KEY_LENGTH, 1),
        provider="openrouter",
        description="Valid, 25 USD readable balance: saves as active.",
        options={"credits": 25.0},
    ),
    DemoKey(
        name="openrouter-balance-unreadable",
        key=demo_key("sk-or-v1-demo-unreadable-", OPENROUTER_KEY_LENGTH, 2),
        provider="openrouter",
        description=(
            "Valid, 25 USD that /credits will not show (403): saves as active after the "
            "payment probe, with the balance unknown."
        ),
        options={"credits": 25.0, "credits_readable": False},
    ),
    DemoKey(
        name="openrouter-unreadable-empty",
        key=demo_key("sk-or-v1-demo-unreadable-empty-", OPENROUTER_KEY_LENGTH, 3),
        provider="openrouter",
        description=(
            "Valid, no credits, balance unreadable: the payment probe gets 402, so Save "
            "fails with insufficient_credits."
        ),
        options={"credits": 0.0, "credits_readable": False},
    ),
    DemoKey(
        name="openrouter-never-purchased",
        key=demo_key("sk-or-v1-demo-never-purchased-", OPENROUTER_KEY_LENGTH, 4),
        provider="openrouter",
        description="Valid, free tier (never bought credits): Save fails, insufficient_credits.",
        options={"credits": 0.0, "free_tier": True},
    ),
    DemoKey(
        name="openrouter-exhausted",
        key=demo_key("sk-or-v1-demo-exhausted-", OPENROUTER_KEY_LENGTH, 5),
        provider="openrouter",
        description="Valid, balance 0 USD: Save fails with insufficient_credits.",
        options={"credits": 0.0},
    ),
    DemoKey(
        name="openrouter-low",
        key=demo_key("sk-or-v1-demo-low-", OPENROUTER_KEY_LENGTH, 6),
        provider="openrouter",
        description="Valid, 2 USD left: saves as active with credit marked low.",
        options={"credits": 2.0},
    ),
    DemoKey(
        name="openrouter-slow",
        key=demo_key("sk-or-v1-demo-slow-", OPENROUTER_KEY_LENGTH, 7),
        provider="openrouter",
        description=(
            "Funded, but every answer takes 10 s, past the default 5 s time-out: "
            "Save fails with provider_unavailable (503)."
        ),
        options={"credits": 25.0, "latency_ms": 10_000},
    ),
    DemoKey(
        name="openrouter-key-limit-reached",
        key=demo_key("sk-or-v1-demo-key-limit-", OPENROUTER_KEY_LENGTH, 8),
        provider="openrouter",
        description=(
            "Valid, 25 USD balance, but the key's own 10 USD cap is spent: Save fails "
            "with insufficient_credits."
        ),
        options={"credits": 25.0, "limit": 10.0, "usage": 10.0},
    ),
    DemoKey(
        name="openai-project",
        key=demo_key("sk-proj-demo-funded-", OPENAI_PROJECT_KEY_LENGTH, 9),
        provider="openai",
        description="Valid project key with quota: saves as active, balance unknown.",
        options={"credits": 25.0},
    ),
    DemoKey(
        name="openai-legacy",
        key=demo_key("sk-demo-legacy-", OPENAI_LEGACY_KEY_LENGTH, 10),
        provider="openai",
        description="Valid legacy user key (sk-...) with quota: saves as active.",
        options={"credits": 25.0},
    ),
    DemoKey(
        name="openai-restricted",
        key=demo_key("sk-proj-demo-restricted-", OPENAI_PROJECT_KEY_LENGTH, 11),
        provider="openai",
        description=(
            "Restricted key: /models refuses it (403 missing scopes), embeddings work, "
            "so it saves as active."
        ),
        options={"credits": 25.0, "models_readable": False},
    ),
    DemoKey(
        name="openai-no-quota",
        key=demo_key("sk-proj-demo-no-quota-", OPENAI_PROJECT_KEY_LENGTH, 12),
        provider="openai",
        description=(
            "Valid, no quota: embeddings get 429 insufficient_quota, so Save fails with "
            "insufficient_credits. Checks that may not spend cannot see this."
        ),
        options={"credits": 0.0},
    ),
    DemoKey(
        name="openai-no-embeddings",
        key=demo_key("sk-proj-demo-no-embeddings-", OPENAI_PROJECT_KEY_LENGTH, 13),
        provider="openai",
        description=(
            "Restricted key without the embeddings permission (403 missing scopes): Save "
            "fails with insufficient_scope."
        ),
        options={"credits": 25.0, "embeddings": False},
    ),
    DemoKey(
        name="openai-slow",
        key=demo_key("sk-proj-demo-slow-", OPENAI_PROJECT_KEY_LENGTH, 14),
        provider="openai",
        description=(
            "Has quota, but every answer takes 10 s, past the default 5 s time-out: "
            "Save fails with provider_unavailable (503)."
        ),
        options={"credits": 25.0, "latency_ms": 10_000},
    ),
]
