"""The `python -m local.dev` command line: options, default overrides and early errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.dev import connect_host, local_parameter_overrides, main, parse_arguments
from local.template import TemplateError, parse_parameter_overrides
from local.tokens import LOCAL_JWT_ISSUER

SANDBOX_URL = "http://127.0.0.1:3002"


def test_default_ports_mirror_sam_local() -> None:
    arguments = parse_arguments([])

    assert arguments.host == "127.0.0.1"
    assert arguments.api_port == 3000
    assert arguments.lambda_port == 3001
    assert arguments.aws_port == 5000
    assert arguments.sandbox_port == 3002
    assert arguments.template.name == "template.yaml"


def test_default_overrides_point_at_the_sandbox() -> None:
    overrides = local_parameter_overrides(SANDBOX_URL, [])

    assert overrides["OpenRouterBaseUrl"] == "http://127.0.0.1:3002/openrouter/api/v1"
    assert overrides["OpenAiBaseUrl"] == "http://127.0.0.1:3002/openai/v1"
    assert overrides["JwtIssuer"] == LOCAL_JWT_ISSUER


def test_command_line_overrides_win() -> None:
    overrides = local_parameter_overrides(
        SANDBOX_URL, ["OpenRouterBaseUrl=https://openrouter.ai/api/v1", "LogLevel=DEBUG"]
    )

    assert overrides["OpenRouterBaseUrl"] == "https://openrouter.ai/api/v1"
    assert overrides["LogLevel"] == "DEBUG"
    assert overrides["OpenAiBaseUrl"] == "http://127.0.0.1:3002/openai/v1"


def test_overrides_in_one_argument_like_sam() -> None:
    overrides = parse_parameter_overrides(["LogLevel=DEBUG Description='two words'"])

    assert overrides == {"LogLevel": "DEBUG", "Description": "two words"}


def test_invalid_override_is_reported() -> None:
    with pytest.raises(TemplateError, match="Key=Value"):
        local_parameter_overrides(SANDBOX_URL, ["LogLevel"])


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "127.0.0.1"), ("0.0.0.0", "127.0.0.1"), ("::", "::1")],  # noqa: S104
)
def test_connect_host(host: str, expected: str) -> None:
    assert connect_host(host) == expected


def test_missing_template_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = main(["--template", str(tmp_path / "missing.yaml")])

    assert exit_code == 1
    assert "missing.yaml not found" in capsys.readouterr().err
