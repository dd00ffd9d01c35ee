"""Local dashboard tokens: what `make_token` signs and what `verify_token` rejects."""

from __future__ import annotations

import time

import jwt
import pytest

from local.tokens import (
    LOCAL_JWT_SECRET,
    TokenRejectedError,
    make_token,
    verify_token,
)

ISSUER = "https://auth.local.invalid/"
AUDIENCES = ("external-providers",)


def token(**options: object) -> str:
    return make_token(
        "user_1",
        "org_1",
        "enterprise",
        "owner",
        issuer=str(options.pop("issuer", ISSUER)),
        audience=str(options.pop("audience", AUDIENCES[0])),
        **options,  # type: ignore[arg-type]
    )


def test_make_token_claims() -> None:
    claims = jwt.decode(
        token(), LOCAL_JWT_SECRET, algorithms=["HS256"], audience=AUDIENCES[0], issuer=ISSUER
    )

    assert claims["sub"] == "user_1"
    assert claims["org_id"] == "org_1"
    assert claims["org_plan"] == "enterprise"
    assert claims["org_role"] == "owner"
    assert claims["exp"] - claims["iat"] == 8 * 60 * 60


def test_verify_token_returns_claims() -> None:
    claims = verify_token(token(), issuer=ISSUER, audiences=AUDIENCES)

    assert claims["org_id"] == "org_1"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({"expires_in": -60}, "expired"),
        ({"now": time.time() + 3600}, "not valid yet"),
        ({"secret": "another-secret-of-at-least-32-bytes"}, "signature is invalid"),
        ({"issuer": "https://auth.example.com/"}, "issuer"),
        ({"audience": "another-service"}, "audience"),
    ],
)
def test_verify_token_rejects(options: dict[str, object], reason: str) -> None:
    with pytest.raises(TokenRejectedError, match=reason):
        verify_token(token(**options), issuer=ISSUER, audiences=AUDIENCES)


def test_verify_token_rejects_garbage() -> None:
    with pytest.raises(TokenRejectedError, match="well-formed"):
        verify_token("not-a-jwt", issuer=ISSUER, audiences=AUDIENCES)


def test_verify_token_rejects_other_algorithm() -> None:
    unsigned = jwt.encode({"iss": ISSUER, "aud": AUDIENCES[0], "exp": 2**40}, "", "none")

    with pytest.raises(TokenRejectedError, match="HS256"):
        verify_token(unsigned, issuer=ISSUER, audiences=AUDIENCES)


def test_verify_token_needs_exp() -> None:
    without_exp = jwt.encode({"iss": ISSUER, "aud": AUDIENCES[0]}, LOCAL_JWT_SECRET, "HS256")

    with pytest.raises(TokenRejectedError, match="no exp claim"):
        verify_token(without_exp, issuer=ISSUER, audiences=AUDIENCES)


def test_verify_token_accepts_audience_list_and_client_id() -> None:
    listed = token(extra_claims={"aud": ["other", AUDIENCES[0]]})
    client_id = token(extra_claims={"aud": None, "client_id": AUDIENCES[0]})

    assert verify_token(listed, issuer=ISSUER, audiences=AUDIENCES)["sub"] == "user_1"
    assert verify_token(client_id, issuer=ISSUER, audiences=AUDIENCES)["sub"] == "user_1"
