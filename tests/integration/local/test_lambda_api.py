"""The local Lambda Invoke API through boto3's `lambda` client."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.integration.local.conftest import FUNCTION_ARN_PREFIX, LocalTestStack


@pytest.fixture
def lambda_client(local_test_stack: LocalTestStack) -> Any:
    return local_test_stack.client("lambda", endpoint_url=local_test_stack.lambda_url)


def invoke(lambda_client: Any, function_name: str, event: Any, **options: Any) -> dict[str, Any]:
    response: dict[str, Any] = lambda_client.invoke(
        FunctionName=function_name, Payload=json.dumps(event).encode(), **options
    )
    return response


def payload(response: dict[str, Any]) -> Any:
    return json.loads(response["Payload"].read())


def test_invoke_returns_the_result(lambda_client: Any, local_test_stack: LocalTestStack) -> None:
    response = invoke(lambda_client, "EchoFunction", {"hello": "world"})

    result = payload(response)
    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert result["received"] == {"hello": "world"}
    assert result["function_name"] == "external-providers-EchoFunction"
    assert result["invoked_function_arn"] == f"{FUNCTION_ARN_PREFIX}external-providers-EchoFunction"
    assert result["memory_limit_in_mb"] == 256
    assert 0 < result["remaining_ms"] <= 10_000
    assert result["aws_request_id"] == response["ResponseMetadata"]["RequestId"]


def test_function_environment_comes_from_template(
    lambda_client: Any, local_test_stack: LocalTestStack
) -> None:
    result = payload(invoke(lambda_client, "EchoFunction", {}))

    assert result["setting"] == "from-the-template"
    assert result["table_name"] == "external-providers-RecordsTable"
    assert result["endpoint"] == local_test_stack.aws_url
    assert result["tracing_disabled"] == "true"


def test_function_environment_overrides_globals(lambda_client: Any) -> None:
    result = payload(invoke(lambda_client, "SecondFunction", {}))

    assert result["setting"] == "second-function"


def test_functions_keep_their_own_modules(lambda_client: Any) -> None:
    # Both functions import a sibling `helper` module from their own folder.
    first = payload(invoke(lambda_client, "EchoFunction", {}))
    second = payload(invoke(lambda_client, "SecondFunction", {}))
    first_again = payload(invoke(lambda_client, "EchoFunction", {}))

    assert first["helper"] == "echo"
    assert second["helper"] == "second"
    assert first_again["helper"] == "echo"


def test_functions_keep_their_own_layer_state(lambda_client: Any) -> None:
    # A layer module counts its calls; with a shared copy the second count would jump by 2.
    first = payload(invoke(lambda_client, "EchoFunction", {}))["layer_calls"]
    payload(invoke(lambda_client, "SecondFunction", {}))
    second = payload(invoke(lambda_client, "EchoFunction", {}))["layer_calls"]

    assert second == first + 1


@pytest.mark.parametrize(
    "function_name",
    [
        "external-providers-EchoFunction",
        f"{FUNCTION_ARN_PREFIX}external-providers-EchoFunction",
        f"{FUNCTION_ARN_PREFIX}external-providers-EchoFunction:$LATEST",
    ],
)
def test_invoke_by_name_or_arn(lambda_client: Any, function_name: str) -> None:
    response = invoke(lambda_client, function_name, {"by": "name"})

    assert payload(response)["received"] == {"by": "name"}


def test_unhandled_error_is_flagged(lambda_client: Any) -> None:
    response = invoke(lambda_client, "EchoFunction", {"fail": True})

    error = payload(response)
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the echo function was asked to fail"
    assert any("app.py" in frame for frame in error["stackTrace"])


def test_timeout_is_an_unhandled_error(lambda_client: Any) -> None:
    response = invoke(lambda_client, "SecondFunction", {"sleep_seconds": 1.2})

    error = payload(response)
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_non_json_result_is_a_marshal_error(lambda_client: Any) -> None:
    response = invoke(lambda_client, "SecondFunction", {"return_datetime": True})

    error = payload(response)
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"


def test_unknown_function_is_not_found(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as raised:
        invoke(lambda_client, "MissingFunction", {})

    assert "Function not found" in str(raised.value)
    assert f"{FUNCTION_ARN_PREFIX}MissingFunction" in str(raised.value)


def test_unknown_qualifier_is_not_found(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException):
        invoke(lambda_client, "EchoFunction", {}, Qualifier="7")


def test_event_invocation_is_accepted(lambda_client: Any) -> None:
    response = invoke(lambda_client, "EchoFunction", {"async": True}, InvocationType="Event")

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""


def test_dry_run_invocation(lambda_client: Any) -> None:
    response = invoke(lambda_client, "EchoFunction", {}, InvocationType="DryRun")

    assert response["StatusCode"] == 204


def test_invalid_json_payload_is_rejected(lambda_client: Any) -> None:
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="EchoFunction", Payload=b"{not json")


def test_other_operations_are_not_served(local_test_stack: LocalTestStack) -> None:
    response = httpx.get(f"{local_test_stack.lambda_url}/2015-03-31/functions")

    assert response.status_code == 404
    assert response.headers["x-amzn-errortype"] == "UnknownOperationException"
