"""Errors the service reports to its callers, each with its error code and HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """An error with a stable code and a message a person can act on.

    Messages never contain an API key.
    """

    code = "internal_error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(ServiceError):
    code = "invalid_request"
    http_status = 400


class Unauthorized(ServiceError):
    code = "unauthorized"
    http_status = 401


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


class EnterprisePlanRequired(ServiceError):
    code = "enterprise_plan_required"
    http_status = 403


class KeyRequired(ServiceError):
    code = "key_required"
    http_status = 409


class KeyRejected(ServiceError):
    """The provider rejected the key; `code` is the status the key would get."""

    http_status = 422

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class ProviderUnavailable(ServiceError):
    code = "provider_unavailable"
    http_status = 503
