from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from external_providers.validation_messages import describe_problems


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    enabled: bool | None = None


def problems_of(data: object) -> str:
    try:
        Body.model_validate(data)
    except ValidationError as error:
        return describe_problems(error.errors(), whole="body")
    raise AssertionError("the data was valid")


def test_names_the_invalid_field() -> None:
    assert problems_of({"enabled": "yes"}) == "enabled: Input should be a valid boolean"


def test_names_an_unknown_field() -> None:
    assert problems_of({"apikey": "x"}) == "apikey: Extra inputs are not permitted"


def test_hides_field_named_after_input() -> None:
    key = "sk-or-v1-" + "7" * 64
    message = problems_of({f'{{"api_key": "{key}"}}': ""})

    assert key not in message
    assert message == "(a field whose name is not shown): Extra inputs are not permitted"


def test_whole_input_without_field() -> None:
    assert problems_of([1]) == "body: Input should be a valid dictionary or instance of Body"


def test_invalid_json_names_the_whole() -> None:
    errors = [{"type": "json_invalid", "loc": ("body", 3), "msg": "JSON decode error"}]

    assert describe_problems(errors, whole="body", skip={"body"}) == "body: not valid JSON"
