"""Dashboard JWTs for the local stack: HS256, signed with the local secret.

In AWS the HTTP API's JWT authorizer verifies RS256 tokens against the issuer's JWKS. The
local stack has no identity provider, so it signs and verifies with one shared secret and
checks the same claims as API Gateway: `exp`, `nbf`, `iat`, `iss`, and `aud` (or `client_id`).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

import jwt

LOCAL_JWT_SECRET = "local-dev-secret-not-for-production"  # noqa: S105 - public, local only
LOCAL_JWT_ALGORITHM = "HS256"
LOCAL_JWT_ISSUER = "https://auth.local.invalid/"
"""Issuer that `make dev` sets in place of the template's, so real tokens never work locally."""

DEFAULT_EXPIRES_IN = 8 * 60 * 60
"""Lifetime of a token from `make_token`, in seconds: a working day."""


class TokenRejectedError(Exception):
    """A token that the JWT authorizer would reject; the message gives the reason, not the token."""


def make_token(
    sub: str,
    org_id: str,
    org_plan: str,
    org_role: str,
    *,
    issuer: str,
    audience: str,
    expires_in: int = DEFAULT_EXPIRES_IN,
    now: float | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    secret: str = LOCAL_JWT_SECRET,
) -> str:
    """Sign a dashboard token with the claims the API reads.

    Parameters
    ----------
    sub, org_id, org_plan, org_role
        The user id, the org, its plan (`enterprise`, ...) and the user's role in it.
    issuer, audience
        `iss` and `aud`, which the authorizer compares with the template's JwtIssuer and
        JwtAudience parameters.
    expires_in
        Seconds from `now` until `exp`; a negative value makes an expired token.
    now
        Issue time as a Unix timestamp; the current time by default.
    extra_claims
        Further claims (`scope`, ...); they replace the standard ones of the same name.
    secret
        HMAC key; anything but the local secret makes a token with a bad signature.
    """
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "sub": sub,
        "org_id": org_id,
        "org_plan": org_plan,
        "org_role": org_role,
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + expires_in,
    }
    claims.update(extra_claims or {})
    return jwt.encode(claims, secret, algorithm=LOCAL_JWT_ALGORITHM)


def verify_token(
    token: str,
    *,
    issuer: str,
    audiences: Collection[str],
    secret: str = LOCAL_JWT_SECRET,
) -> dict[str, Any]:
    """Verify a token as the HTTP API's JWT authorizer does and return its claims.

    Raises
    ------
    TokenRejectedError
        The signature, algorithm, `exp`, `nbf`, `iat`, `iss` or audience is not valid.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=[LOCAL_JWT_ALGORITHM],
            options={"require": ["exp"], "verify_aud": False, "verify_iss": False},
            leeway=0,
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejectedError("the token has expired") from None
    except jwt.ImmatureSignatureError:
        raise TokenRejectedError("the token is not valid yet (nbf or iat)") from None
    except jwt.InvalidSignatureError:
        raise TokenRejectedError("the token's signature is invalid") from None
    except jwt.InvalidAlgorithmError:
        raise TokenRejectedError(f"the token is not signed with {LOCAL_JWT_ALGORITHM}") from None
    except jwt.MissingRequiredClaimError as error:
        raise TokenRejectedError(f"the token has no {error.claim} claim") from None
    except jwt.InvalidTokenError:
        raise TokenRejectedError("the token is not a well-formed JWT") from None

    if claims.get("iss") != issuer:
        raise TokenRejectedError(f"the token's issuer is not {issuer!r}")

    if not _audience_matches(claims, audiences):
        raise TokenRejectedError(f"the token's audience is none of {sorted(audiences)}")

    return claims


def _audience_matches(claims: Mapping[str, Any], audiences: Collection[str]) -> bool:
    # API Gateway accepts `aud` (a string or a list) and, for tokens without one, `client_id`.
    audience = claims.get("aud")
    if audience is None:
        return claims.get("client_id") in audiences
    if isinstance(audience, str):
        return audience in audiences
    return isinstance(audience, list) and any(entry in audiences for entry in audience)
