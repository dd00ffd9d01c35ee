"""Fixtures and plugins for the whole suite."""

from __future__ import annotations

import os

# Tests never reach AWS or X-Ray; these must be set before any function module is imported.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "external-providers",
        "POWERTOOLS_METRICS_NAMESPACE": "ExternalProviders",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)

pytest_plugins = ["pytester", "tests.key_guard"]
