"""Template loading: short tags, parameters, Globals, names and intrinsic functions."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from local.functions import read_functions
from local.template import (
    PseudoParameters,
    Template,
    TemplateError,
    load_template_document,
    merge_globals,
    parse_parameter_overrides,
)
from tests.unit.local.real_template import (
    KMS_KEY_ID,
    REPOSITORY,
    load_real_template,
    record_service_ids,
)


def inline_template(text: str, **overrides: str) -> Template:
    document = load_template_document(textwrap.dedent(text))
    return Template(document, directory=Path("/project"), parameter_overrides=overrides)


# The repository's template.yaml


def test_real_template_parameter_defaults() -> None:
    template = load_real_template()

    assert template.parameters["JwtIssuer"] == "https://auth.example.com/"
    assert template.parameters["JwtAudience"] == ["external-providers"]
    assert template.parameters["SecretRecoveryWindowDays"] == "7"
    assert template.parameters["OpenRouterPaymentProbe"] == "true"


def test_real_template_overrides_replace_defaults() -> None:
    template = load_real_template(
        OpenRouterBaseUrl="http://127.0.0.1:3002/openrouter/api/v1",
        CorsAllowedOrigins="http://localhost:5173, https://app.example.com",
    )

    assert template.parameters["OpenRouterBaseUrl"] == "http://127.0.0.1:3002/openrouter/api/v1"
    assert template.parameters["CorsAllowedOrigins"] == [
        "http://localhost:5173",
        "https://app.example.com",
    ]


def test_real_template_api_function_environment() -> None:
    template = record_service_ids(load_real_template(LogLevel="DEBUG"))

    functions = read_functions(template)

    environment = functions["ApiFunction"].environment
    assert environment["TABLE_NAME"] == "external-providers-ProvidersTable"
    assert environment["KMS_KEY_ID"] == f"arn:aws:kms:us-east-1:123456789012:key/{KMS_KEY_ID}"
    assert environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert environment["SECRET_RECOVERY_WINDOW_DAYS"] == "7"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "ExternalProviders"


def test_real_template_api_function_settings() -> None:
    template = record_service_ids(load_real_template())

    function = read_functions(template)["ApiFunction"]

    assert function.code_dir == REPOSITORY / "functions" / "api"
    assert function.handler == "app.lambda_handler"
    assert function.layer_dirs == (REPOSITORY / "layers" / "shared",)
    assert function.timeout_seconds == 29
    assert function.memory_mb == 512
    assert function.name == "external-providers-ApiFunction"
    assert function.arn == (
        "arn:aws:lambda:us-east-1:123456789012:function:external-providers-ApiFunction"
    )


def test_real_template_sub_with_pseudo_parameters() -> None:
    template = load_real_template()
    statements = template.resolve(template.properties("KeysKmsKey"))["KeyPolicy"]["Statement"]

    assert statements[0]["Principal"]["AWS"] == "arn:aws:iam::123456789012:root"
    alias_name = template.properties("KeysKmsKeyAlias")["AliasName"]
    assert template.resolve(alias_name) == "alias/external-providers-provider-keys"


def test_real_template_outputs_resolve() -> None:
    template = record_service_ids(load_real_template())

    outputs = template.document["Outputs"]

    api_url = template.resolve(outputs["ApiUrl"]["Value"])
    table_name = template.resolve(outputs["ProvidersTableName"]["Value"])
    key_arn = template.resolve(outputs["KeysKmsKeyArn"]["Value"])
    assert api_url == "https://httpapi.execute-api.us-east-1.amazonaws.com"
    assert table_name == "external-providers-ProvidersTable"
    assert key_arn.endswith(f":key/{KMS_KEY_ID}")


def test_kms_key_ref_before_creation_fails() -> None:
    template = load_real_template()

    with pytest.raises(TemplateError, match="KeysKmsKey"):
        template.resolve({"Fn::GetAtt": ["KeysKmsKey", "Arn"]})


def test_creation_order_follows_references() -> None:
    template = load_real_template()

    order = template.creation_order(["KeysKmsKeyAlias", "ProvidersTable", "KeysKmsKey"])

    assert order.index("KeysKmsKey") < order.index("KeysKmsKeyAlias")
    assert set(order) == {"KeysKmsKeyAlias", "ProvidersTable", "KeysKmsKey"}


# Parameters


PARAMETERS = """
    Parameters:
      Stage:
        Type: String
        Default: dev
        AllowedValues: [dev, prod]
      Prefix:
        Type: String
        Default: app/
        AllowedPattern: "^[a-z/]+/$"
      Days:
        Type: Number
        Default: 7
        MinValue: 7
        MaxValue: 30
      Origins:
        Type: CommaDelimitedList
        Default: "http://a,http://b"
      Enabled:
        Type: String
        Default: true
    Resources: {}
"""


def test_parameter_yaml_scalars_become_text() -> None:
    template = inline_template(PARAMETERS)

    assert template.parameters["Days"] == "7"
    assert template.parameters["Enabled"] == "true"
    assert template.parameters["Origins"] == ["http://a", "http://b"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"Stage": "test"}, "not one of"),
        ({"Prefix": "App"}, "does not match"),
        ({"Days": "3"}, "below MinValue"),
        ({"Days": "31"}, "above MaxValue"),
        ({"Days": "many"}, "not a number"),
        ({"Unknown": "x"}, "not declared"),
    ],
)
def test_parameter_override_constraints(override: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        inline_template(PARAMETERS, **override)


def test_parameter_without_default_needs_override() -> None:
    text = """
        Parameters:
          Required:
            Type: String
        Resources: {}
    """

    with pytest.raises(TemplateError, match="--parameter-overrides Required=VALUE"):
        inline_template(text)

    assert inline_template(text, Required="set").parameters["Required"] == "set"


def test_parameter_overrides_both_forms() -> None:
    overrides = parse_parameter_overrides(
        ["Stage=prod", "ParameterKey=Origins,ParameterValue=http://a,http://b", "Url=a=b"]
    )

    assert overrides == {"Stage": "prod", "Origins": "http://a,http://b", "Url": "a=b"}


def test_parameter_override_without_equals_fails() -> None:
    with pytest.raises(TemplateError, match="Key=Value"):
        parse_parameter_overrides(["Stage"])


# Intrinsic functions


INTRINSICS = """
    Parameters:
      Stage:
        Type: String
        Default: prod
      Names:
        Type: CommaDelimitedList
        Default: "alpha,beta,gamma"
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
      IsDev: !Not [!Condition IsProd]
      ProdOrDev: !Or [!Condition IsProd, !Condition IsDev]
      ProdAndDev: !And [!Condition IsProd, !Condition IsDev]
    Mappings:
      Sizes:
        prod: {Memory: 1024}
    Resources:
      Table:
        Type: AWS::DynamoDB::Table
        Properties:
          TableName: !Sub "${AWS::StackName}-${Stage}-table"
      Queue:
        Type: AWS::SQS::Queue
      DevOnly:
        Type: AWS::DynamoDB::Table
        Condition: IsDev
"""


TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/external-providers-prod-table"


@pytest.fixture
def intrinsics() -> Template:
    return inline_template(INTRINSICS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "Stage"}, "prod"),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Ref": "Names"}, ["alpha", "beta", "gamma"]),
        ({"Ref": "Table"}, "external-providers-prod-table"),
        ({"Fn::GetAtt": ["Table", "Arn"]}, TABLE_ARN),
        ({"Fn::GetAtt": "Table.Arn"}, TABLE_ARN),
        ({"Fn::Sub": "${Stage}-${Table.Arn}"}, f"prod-{TABLE_ARN}"),
        ({"Fn::Sub": ["${Name}-${Stage}", {"Name": {"Ref": "Stage"}}]}, "prod-prod"),
        ({"Fn::Sub": "${!Literal}-${ Stage }"}, "${Literal}-prod"),
        ({"Fn::Join": ["+", {"Ref": "Names"}]}, "alpha+beta+gamma"),
        ({"Fn::Select": ["1", {"Ref": "Names"}]}, "beta"),
        ({"Fn::Split": [",", "a,b"]}, ["a", "b"]),
        ({"Fn::Select": [0, {"Fn::Split": ["/", "x/y"]}]}, "x"),
        ({"Fn::If": ["IsProd", "yes", "no"]}, "yes"),
        ({"Fn::If": ["IsDev", "yes", "no"]}, "no"),
        ({"Fn::If": ["ProdOrDev", "yes", "no"]}, "yes"),
        ({"Fn::If": ["ProdAndDev", "yes", "no"]}, "no"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, 1024),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::GetAZs": ""}, ["us-east-1a", "us-east-1b", "us-east-1c"]),
        ({"Fn::ToJsonString": {"a": {"Ref": "Stage"}}}, '{"a":"prod"}'),
        ({"Fn::Length": {"Ref": "Names"}}, 3),
    ],
)
def test_intrinsic_function(intrinsics: Template, value: Any, expected: Any) -> None:
    assert intrinsics.resolve(value) == expected


def test_no_value_removes_properties(intrinsics: Template) -> None:
    value = {
        "Keep": 1,
        "Drop": {"Ref": "AWS::NoValue"},
        "Maybe": {"Fn::If": ["IsDev", "dev", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }

    assert intrinsics.resolve(value) == {"Keep": 1, "List": ["a", "b"]}


def test_condition_false_resource_is_not_created(intrinsics: Template) -> None:
    created = [logical_id for logical_id, _ in intrinsics.resources_of_type("AWS::DynamoDB::Table")]

    assert created == ["Table"]


def test_queue_ref_needs_the_created_queue(intrinsics: Template) -> None:
    with pytest.raises(TemplateError, match="Queue"):
        intrinsics.resolve({"Ref": "Queue"})

    intrinsics.record(
        "Queue", ref="http://127.0.0.1:5000/123456789012/q", Arn="arn:aws:sqs:us-east-1:1:q"
    )

    assert intrinsics.resolve({"Ref": "Queue"}) == "http://127.0.0.1:5000/123456789012/q"
    assert intrinsics.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:1:q"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"Ref": "Missing"}, "Missing"),
        ({"Fn::GetAtt": ["Missing", "Arn"]}, "Missing"),
        ({"Fn::ImportValue": "shared-vpc"}, "Fn::ImportValue is not supported"),
        ({"Fn::Sub": "${Names}"}, "needs a string"),
        ({"Fn::Select": [5, ["a"]]}, "outside"),
        ({"Fn::FindInMap": ["Sizes", "dev", "Memory"]}, "Sizes.dev.Memory"),
        ({"Fn::If": ["Undeclared", 1, 2]}, "Undeclared"),
    ],
)
def test_intrinsic_errors(intrinsics: Template, value: Any, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        intrinsics.resolve(value)


def test_short_tags_become_long_form() -> None:
    document = load_template_document(
        textwrap.dedent(
            """
            Resources:
              Thing:
                Type: Custom::Thing
                Properties:
                  A: !Ref X
                  B: !GetAtt Y.Endpoint.Address
                  C: !Sub "${X}"
                  D: !Join [",", [a, b]]
                  E: !If [Cond, !Ref X, !Ref AWS::NoValue]
                  F: !Select [0, !Split [",", "a,b"]]
                  G: !Equals [a, b]
                  H: !Condition Cond
                  I: !FindInMap [M, a, b]
            """
        )
    )

    properties = document["Resources"]["Thing"]["Properties"]
    assert properties["A"] == {"Ref": "X"}
    assert properties["B"] == {"Fn::GetAtt": ["Y", "Endpoint.Address"]}
    assert properties["C"] == {"Fn::Sub": "${X}"}
    assert properties["D"] == {"Fn::Join": [",", ["a", "b"]]}
    assert properties["E"] == {"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}
    assert properties["F"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert properties["G"] == {"Fn::Equals": ["a", "b"]}
    assert properties["H"] == {"Condition": "Cond"}
    assert properties["I"] == {"Fn::FindInMap": ["M", "a", "b"]}


def test_document_without_resources_fails() -> None:
    with pytest.raises(TemplateError, match="no Resources"):
        load_template_document("Parameters: {}\n")


def test_pseudo_parameters_can_change() -> None:
    document = load_template_document("Resources: {}\n")
    pseudo = PseudoParameters(region="eu-west-1", stack_name="other")
    template = Template(document, directory=Path("/project"), pseudo=pseudo)

    assert template.resolve({"Fn::Sub": "${AWS::StackName}/${AWS::Region}"}) == "other/eu-west-1"


# Globals


def test_merge_globals_like_sam() -> None:
    global_properties = {
        "Timeout": 29,
        "Layers": [{"Ref": "Shared"}],
        "Environment": {"Variables": {"A": "global", "B": "global"}},
        "Tags": {"team": "x"},
    }
    properties = {
        "Timeout": 10,
        "Layers": [{"Ref": "Own"}],
        "Environment": {"Variables": {"B": "own", "C": "own"}},
        "Tags": {"Ref": "TagsParameter"},
    }

    merged = merge_globals(global_properties, properties)

    assert merged["Timeout"] == 10
    assert merged["Layers"] == [{"Ref": "Shared"}, {"Ref": "Own"}]
    assert merged["Environment"] == {"Variables": {"A": "global", "B": "own", "C": "own"}}
    assert merged["Tags"] == {"Ref": "TagsParameter"}


def test_functions_get_globals_and_defaults(tmp_path: Path) -> None:
    document = load_template_document(
        textwrap.dedent(
            """
            Globals:
              Function:
                Runtime: python3.13
                Environment:
                  Variables:
                    SHARED: !Ref AWS::Region
                    FLAG: true
            Resources:
              First:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: functions/first
                  Handler: app.handler
                  Environment:
                    Variables:
                      OWN: "1"
              Second:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: functions/second
                  Handler: app.handler
                  Timeout: 60
                  MemorySize: 1024
              Node:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: functions/node
                  Handler: index.handler
                  Runtime: nodejs22.x
            """
        )
    )
    template = Template(document, directory=tmp_path)

    functions = read_functions(template)

    assert sorted(functions) == ["First", "Second"]
    assert functions["First"].environment == {"SHARED": "us-east-1", "FLAG": "true", "OWN": "1"}
    assert functions["First"].timeout_seconds == 3
    assert functions["First"].memory_mb == 128
    assert functions["First"].code_dir == tmp_path / "functions" / "first"
    assert functions["Second"].timeout_seconds == 60
    assert functions["Second"].memory_mb == 1024


def test_function_environment_must_be_text() -> None:
    template = inline_template(
        """
        Parameters:
          Origins:
            Type: CommaDelimitedList
            Default: a,b
        Resources:
          Fn:
            Type: AWS::Serverless::Function
            Properties:
              CodeUri: fn
              Handler: app.handler
              Runtime: python3.13
              Environment:
                Variables:
                  ORIGINS: !Ref Origins
        """
    )

    with pytest.raises(TemplateError, match="ORIGINS of Fn"):
        read_functions(template)
