from __future__ import annotations

import pytest

from external_providers.api_keys import MAX_KEY_LENGTH, key_hint, normalize_key
from external_providers.domain import Provider
from external_providers.errors import InvalidRequest

OPENROUTER_KEY = "sk-or-v1-" + "0123456789abcdef" * 4
OPENAI_KEYS = [
    "sk-proj-" + "Ab1_-" * 30,
    "sk-svcacct-" + "Zy9" * 40,
    "sk-" + "L" * 48,
]


def test_normalize_key_strips_surrounding_white_space() -> None:
    assert normalize_key(Provider.OPENROUTER, f" \t{OPENROUTER_KEY}\r\n ") == OPENROUTER_KEY


@pytest.mark.parametrize("key", OPENAI_KEYS, ids=["project", "service_account", "legacy"])
def test_normalize_key_accepts_openai_shapes(key: str) -> None:
    assert normalize_key(Provider.OPENAI, key) == key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("   ", "api_key is empty"),
        ("sk-or-v1-abc def", "white space or control characters"),
        ("sk-or-v1-abc\tdef", "white space or control characters"),
        ("sk-or-v1-abc\x00def", "white space or control characters"),
        ("sk-or-v1-abc\x7fdef", "white space or control characters"),
        ("sk-or-v1-abcdé", "non-ASCII"),
        ("sk-or-v1-" + "a" * 10_000, "over the limit"),
        ("sk-proj-abcdef", "must start with 'sk-or-'"),
    ],
    ids=["blank", "space", "tab", "nul", "delete", "non_ascii", "ten_kb", "wrong_prefix"],
)
def test_normalize_key_rejects_malformed_keys(raw: str, expected: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        normalize_key(Provider.OPENROUTER, raw)

    assert "api_key" in raised.value.message
    assert expected in raised.value.message
    if raw.strip():
        assert raw.strip() not in raised.value.message


def test_normalize_key_accepts_maximum_length() -> None:
    key = "sk-" + "a" * (MAX_KEY_LENGTH - 3)
    assert normalize_key(Provider.OPENAI, key) == key


def test_openrouter_key_never_goes_to_openai() -> None:
    with pytest.raises(InvalidRequest) as raised:
        normalize_key(Provider.OPENAI, OPENROUTER_KEY)

    assert raised.value.message == (
        "api_key is an OpenRouter key: save it under openrouter, not openai."
    )


def test_openai_key_needs_sk_prefix() -> None:
    with pytest.raises(InvalidRequest, match="must start with 'sk-'"):
        normalize_key(Provider.OPENAI, "pk-" + "a" * 40)


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        (OPENROUTER_KEY, "sk-or-v1-…cdef"),
        ("sk-proj-" + "x" * 40 + "wxyz", "sk-proj-…wxyz"),
        ("sk-svcacct-" + "x" * 40 + "9876", "sk-svcacct-…9876"),
        ("sk-" + "x" * 40 + "LAST", "sk-…LAST"),
    ],
)
def test_key_hint_shows_prefix_and_last_four(key: str, hint: str) -> None:
    assert key_hint(key) == hint
