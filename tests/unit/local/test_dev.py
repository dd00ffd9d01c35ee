"""`python -m local.dev`: options, default overrides, early errors and the printed guide."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from local.banner import StackUrls, print_banner
from local.dev import connect_host, local_parameter_overrides, main, parse_arguments
from local.functions import read_functions
from local.http_routes import read_http_apis
from local.sandbox import DEMO_KEYS
from local.template import TemplateError, parse_parameter_overrides
from local.tokens import LOCAL_JWT_ISSUER, verify_token
from tests.unit.local.real_template import REPOSITORY, load_real_template, record_service_ids

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


def printed_guide() -> str:
    template = record_service_ids(load_real_template())
    functions = read_functions(template)
    out = io.StringIO()
    print_banner(
        StackUrls(
            api="http://127.0.0.1:3000",
            lambda_invoke="http://127.0.0.1:3001",
            aws="http://127.0.0.1:5000",
            sandbox="http://127.0.0.1:3002",
        ),
        template_directory=REPOSITORY,
        apis=read_http_apis(template, functions),
        functions=functions,
        event_sources=None,
        demo_keys=DEMO_KEYS,
        out=out,
    )
    return out.getvalue()


def exported(guide: str, name: str) -> str:
    [line] = [line for line in guide.splitlines() if line.strip().startswith(f"export {name}=")]
    return line.split("=", 1)[1]


@pytest.mark.parametrize(
    ("name", "org_id", "plan", "role"),
    [
        ("TOKEN", "org_demo", "enterprise", "owner"),
        ("MEMBER_TOKEN", "org_demo", "enterprise", "member"),
        ("STARTER_TOKEN", "org_starter", "starter", "owner"),
    ],
)
def test_guide_tokens_pass_the_authorizer(name: str, org_id: str, plan: str, role: str) -> None:
    token = exported(printed_guide(), name)

    claims = verify_token(
        token, issuer="https://auth.example.com/", audiences=["external-providers"]
    )

    assert claims["org_id"] == org_id
    assert claims["org_plan"] == plan
    assert claims["org_role"] == role
    assert claims["exp"] - claims["iat"] >= 4 * 3600


def test_guide_lists_urls_and_requests() -> None:
    guide = printed_guide()

    for url in ("3000", "3001", "5000", "3002"):
        assert f"http://127.0.0.1:{url}" in guide
    assert "curl -s http://127.0.0.1:3000/providers" in guide
    assert "-X PUT http://127.0.0.1:3000/providers/openrouter" in guide
    assert "-X POST http://127.0.0.1:3000/providers/openrouter/validate" in guide
    assert "-X DELETE http://127.0.0.1:3000/providers/openrouter" in guide
    assert exported(guide, "OPENROUTER_KEY") == DEMO_KEYS[0].key
    assert all(demo.name in guide for demo in DEMO_KEYS)
