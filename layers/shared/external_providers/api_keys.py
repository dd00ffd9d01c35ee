"""Rules for API keys pasted by hand: clean-up, format checks and the hint shown instead."""

from __future__ import annotations

from external_providers.domain import Provider
from external_providers.errors import InvalidRequest

# Maximum key length accepted. Real keys are shorter than 300 characters (OpenAI project and service
# account keys are the longest); the margin allows new shapes, not pasted documents.
MAX_KEY_LENGTH = 512

KEY_PREFIXES: dict[Provider, str] = {
    Provider.OPENROUTER: "sk-or-",
    Provider.OPENAI: "sk-",
}

# Prefixes shown in a key hint, longest first, so a hint shows the key's shape at a glance.
HINT_PREFIXES = ("sk-or-v1-", "sk-svcacct-", "sk-admin-", "sk-proj-", "sk-or-", "sk-")


def normalize_key(provider: Provider, raw: str) -> str:
    """Strip surrounding white space and check a pasted key's format.

    Raises `InvalidRequest` naming the `api_key` field; the message never contains the key.
    """
    key = raw.strip()
    if not key:
        raise InvalidRequest("api_key is empty: paste the key from the provider's dashboard.")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"api_key is {len(key)} characters long, over the limit of {MAX_KEY_LENGTH}: "
            "paste the key alone."
        )
    if not key.isascii():
        raise InvalidRequest("api_key contains non-ASCII characters: paste the key alone.")
    if any(not character.isprintable() or character.isspace() for character in key):
        raise InvalidRequest(
            "api_key contains white space or control characters inside it: paste the key alone."
        )
    # Every OpenRouter key also starts with OpenAI's "sk-": never send one to OpenAI.
    if provider is Provider.OPENAI and key.startswith(KEY_PREFIXES[Provider.OPENROUTER]):
        raise InvalidRequest("api_key is an OpenRouter key: save it under openrouter, not openai.")
    prefix = KEY_PREFIXES[provider]
    if not key.startswith(prefix):
        raise InvalidRequest(
            f"api_key is not an {provider.display_name} key: it must start with '{prefix}'."
        )
    return key


def key_hint(key: str) -> str:
    """Return the key's known prefix and its last four characters, joined by an ellipsis."""
    prefix = next((p for p in HINT_PREFIXES if key.startswith(p)), "")
    return f"{prefix}…{key[-4:]}"
