"""`template.yaml` as the local stack reads it: parameters, conditions, resources and names.

The local stack creates its tables, keys, queues and functions from the template, so it
cannot drift from what `sam deploy` creates. Physical names are deterministic
(`<stack name>-<logical id>`, or the name the template sets) because no CloudFormation
assigns random suffixes locally. Identifiers that only the service can assign, such as a
KMS key id or a queue URL, are recorded by `local.aws` once the resource exists.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from local.intrinsics import IntrinsicResolver, TemplateError, is_intrinsic, references

__all__ = [
    "PseudoParameters",
    "Template",
    "TemplateError",
    "load_template_document",
    "merge_globals",
    "parse_parameter_overrides",
]

LIST_PARAMETER_TYPES = ("CommaDelimitedList", "List<")


@dataclass(frozen=True)
class PseudoParameters:
    """Values of `AWS::Region`, `AWS::AccountId` and the other pseudo parameters.

    The account id is moto's default account, so ARNs built here match moto's own.
    """

    region: str = "us-east-1"
    account_id: str = "123456789012"
    partition: str = "aws"
    stack_name: str = "external-providers"
    url_suffix: str = "amazonaws.com"

    def as_values(self) -> dict[str, Any]:
        stack_id = (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:"
            f"stack/{self.stack_name}/00000000-0000-0000-0000-000000000000"
        )
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": stack_id,
            "AWS::URLSuffix": self.url_suffix,
            "AWS::NotificationARNs": [],
        }


class _TemplateLoader(yaml.SafeLoader):  # type: ignore[misc]
    """A YAML loader that reads the CloudFormation short forms (`!Ref`, `!Sub`, ...)."""


def _construct_short_form(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"unexpected YAML node for !{tag_suffix} at {node.start_mark}")

    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt Resource.Attribute` is the short form of `[Resource, Attribute]`; only the
        # first dot separates them, since attribute names such as `Endpoint.Address` have dots.
        logical_id, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [logical_id, attribute]}
    return {f"Fn::{tag_suffix}": value}


_TemplateLoader.add_multi_constructor("!", _construct_short_form)


def load_template_document(text: str) -> dict[str, Any]:
    """Parse a template's YAML (or JSON) text into its long-form document."""
    document = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError("the template has no Resources section")
    return document


def parse_parameter_overrides(items: Sequence[str]) -> dict[str, str]:
    """Parse `Key=Value` items, or SAM's `ParameterKey=Key,ParameterValue=Value` form.

    Like SAM, an item may hold several space-separated overrides (`"A=1 B=2"`), and a value
    with spaces is quoted (`"Description='two words'"`).
    """
    overrides: dict[str, str] = {}
    for item in (part for argument in items for part in shlex.split(argument)):
        long_form = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item, re.DOTALL)
        if long_form:
            key, value = long_form.group(1), long_form.group(2)
        else:
            key, separator, value = item.partition("=")
            if not separator or not key:
                raise TemplateError(f"invalid parameter override {item!r}: write it as Key=Value")
        overrides[key.strip()] = value
    return overrides


def merge_globals(global_properties: Mapping[str, Any], properties: Mapping[str, Any]) -> Any:
    """Merge a `Globals` section into a resource's properties as SAM does.

    The resource's own scalars win, maps merge key by key, and lists are additive with the
    global entries first. An intrinsic function counts as a scalar.
    """
    merged: dict[str, Any] = copy.deepcopy(dict(global_properties))
    for key, value in properties.items():
        merged[key] = _merge_global_value(merged[key], value) if key in merged else value
    return merged


def _merge_global_value(global_value: Any, value: Any) -> Any:
    if isinstance(global_value, list) and isinstance(value, list):
        return [*global_value, *value]
    both_maps = isinstance(global_value, dict) and isinstance(value, dict)
    if both_maps and not is_intrinsic(global_value) and not is_intrinsic(value):
        return merge_globals(global_value, value)
    return copy.deepcopy(value)


@dataclass(frozen=True)
class _Naming:
    """Rules that form a resource type's `Ref` and `Arn` from its physical name."""

    name_property: str | None
    service: str | None = None
    resource: str = "{name}"
    """The ARN's part after the account, with `{name}` for the physical name."""
    ref_is_arn: bool = False
    ref_assigned_by_service: bool = False

    def arn(self, pseudo: PseudoParameters, name: str) -> str | None:
        if self.service is None:
            return None
        region = "" if self.service == "iam" else pseudo.region  # IAM ARNs have no region
        resource = self.resource.format(name=name)
        return f"arn:{pseudo.partition}:{self.service}:{region}:{pseudo.account_id}:{resource}"


_LAYER_NAMING = _Naming("LayerName", "lambda", "layer:{name}:1", ref_is_arn=True)

# The resource types that the local stack can name before, or without, creating them.
_NAMING: dict[str, _Naming] = {
    "AWS::DynamoDB::Table": _Naming("TableName", "dynamodb", "table/{name}"),
    "AWS::Serverless::SimpleTable": _Naming("TableName", "dynamodb", "table/{name}"),
    "AWS::SQS::Queue": _Naming("QueueName", "sqs", ref_assigned_by_service=True),
    "AWS::Events::EventBus": _Naming("Name", "events", "event-bus/{name}"),
    "AWS::Events::Rule": _Naming("Name", "events", "rule/{name}"),
    "AWS::Serverless::Function": _Naming("FunctionName", "lambda", "function:{name}"),
    "AWS::Lambda::Function": _Naming("FunctionName", "lambda", "function:{name}"),
    "AWS::Serverless::LayerVersion": _LAYER_NAMING,
    "AWS::Lambda::LayerVersion": _LAYER_NAMING,
    "AWS::Logs::LogGroup": _Naming("LogGroupName", "logs", "log-group:{name}:*"),
    "AWS::KMS::Alias": _Naming("AliasName"),
    "AWS::SNS::Topic": _Naming("TopicName", "sns", ref_is_arn=True),
    "AWS::IAM::Role": _Naming("RoleName", "iam", "role/{name}"),
    "AWS::CloudWatch::Alarm": _Naming("AlarmName", "cloudwatch", "alarm:{name}"),
    "AWS::SSM::Parameter": _Naming("Name"),
    "AWS::Serverless::HttpApi": _Naming(None),
}


class Template:
    """A SAM template with its parameters, conditions and the local names of its resources.

    Parameters
    ----------
    document
        The long-form template, as `load_template_document` returns it.
    directory
        The folder of the template file; `CodeUri` and `ContentUri` are relative to it.
    parameter_overrides
        Parameter values that replace the defaults, like `sam --parameter-overrides`.
    pseudo
        Region, account and stack name of the local stack.
    """

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        directory: Path,
        parameter_overrides: Mapping[str, str] | None = None,
        pseudo: PseudoParameters | None = None,
    ) -> None:
        self.document = document
        self.directory = directory
        self.pseudo = pseudo or PseudoParameters()
        self.resources: dict[str, dict[str, Any]] = dict(document["Resources"])
        self.parameters = self._parameter_values(parameter_overrides or {})
        self._recorded: dict[str, dict[str, Any]] = {}
        self._resolver = IntrinsicResolver(
            values={**self.pseudo.as_values(), **self.parameters},
            conditions=document.get("Conditions", {}),
            mappings=document.get("Mappings", {}),
            region=self.pseudo.region,
            ref=self.ref,
            get_att=self.get_att,
        )

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        parameter_overrides: Mapping[str, str] | None = None,
        pseudo: PseudoParameters | None = None,
    ) -> Template:
        """Load a template file; `CodeUri` paths are then relative to its folder."""
        document = load_template_document(path.read_text(encoding="utf-8"))
        return cls(
            document,
            directory=path.resolve().parent,
            parameter_overrides=parameter_overrides,
            pseudo=pseudo,
        )

    # Parameters

    def _parameter_values(self, overrides: Mapping[str, str]) -> dict[str, str | list[str]]:
        declared: dict[str, Any] = self.document.get("Parameters") or {}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise TemplateError(
                f"parameter overrides {unknown} are not declared in the template; "
                f"its parameters are {sorted(declared)}"
            )

        values: dict[str, str | list[str]] = {}
        for name, declaration in declared.items():
            if name in overrides:
                raw: Any = overrides[name]
            elif "Default" in declaration:
                raw = declaration["Default"]
            else:
                raise TemplateError(
                    f"parameter {name} has no Default; set it with "
                    f"--parameter-overrides {name}=VALUE"
                )
            values[name] = _parameter_value(name, declaration, raw)
        return values

    # Resources

    def resources_of_type(self, *resource_types: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield the logical id and declaration of each created resource of these types."""
        for logical_id, resource in self.resources.items():
            if resource.get("Type") in resource_types and self.is_created(logical_id):
                yield logical_id, resource

    def is_created(self, logical_id: str) -> bool:
        """Tell whether the resource's `Condition`, if any, holds."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self._resolver.condition(condition)

    def global_properties(self, section: str) -> dict[str, Any]:
        """Return the `Globals` section of one resource kind (`Function`, `HttpApi`, ...)."""
        globals_section = self.document.get("Globals") or {}
        return dict(globals_section.get(section) or {})

    def properties(self, logical_id: str) -> dict[str, Any]:
        """Return the resource's properties with `Globals` applied and intrinsics unresolved."""
        resource = self.resources[logical_id]
        own = dict(resource.get("Properties") or {})
        section = {
            "AWS::Serverless::Function": "Function",
            "AWS::Serverless::HttpApi": "HttpApi",
            "AWS::Serverless::Api": "Api",
            "AWS::Serverless::SimpleTable": "SimpleTable",
            "AWS::Serverless::LayerVersion": "LayerVersion",
        }.get(resource.get("Type", ""))
        if section is None:
            return own
        return dict(merge_globals(self.global_properties(section), own))

    def creation_order(self, logical_ids: Sequence[str]) -> list[str]:
        """Order resources so that each comes after those it refers to or `DependsOn`."""
        requested = set(logical_ids)
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(logical_id: str) -> None:
            if logical_id in ordered:
                return
            if logical_id in visiting:
                raise TemplateError(f"resource {logical_id} depends on itself through others")
            visiting.add(logical_id)
            resource = self.resources[logical_id]
            depends_on = resource.get("DependsOn") or []
            if isinstance(depends_on, str):
                depends_on = [depends_on]
            for dependency in sorted({*references(resource.get("Properties")), *depends_on}):
                if dependency in requested:
                    visit(dependency)
            visiting.discard(logical_id)
            ordered.append(logical_id)

        for logical_id in logical_ids:
            visit(logical_id)
        return ordered

    # Intrinsic functions and names

    def resolve(self, value: Any) -> Any:
        """Resolve the intrinsic functions in a value; `AWS::NoValue` entries are dropped."""
        return self._resolver.resolve(value)

    def record(self, logical_id: str, *, ref: str, **attributes: Any) -> None:
        """Record the identifiers that the service assigned to a resource it created."""
        self._recorded[logical_id] = {"Ref": ref, **attributes}

    def physical_name(self, logical_id: str) -> str:
        """Return the name the properties set, or else `<stack name>-<logical id>`."""
        resource = self.resources[logical_id]
        naming = _NAMING.get(resource.get("Type", ""))
        if naming is not None and naming.name_property is not None:
            name = (resource.get("Properties") or {}).get(naming.name_property)
            if name is not None:
                return str(self.resolve(name))
        return f"{self.pseudo.stack_name}-{logical_id}"

    def ref(self, logical_id: str) -> Any:
        """Return the value of `!Ref` on a resource."""
        if logical_id not in self.resources:
            raise TemplateError(f"!Ref {logical_id}: no parameter or resource has that name")
        if logical_id in self._recorded:
            return self._recorded[logical_id]["Ref"]

        resource_type = self.resources[logical_id].get("Type", "")
        naming = _NAMING.get(resource_type)
        if resource_type == "AWS::Serverless::HttpApi":
            return logical_id.lower()
        if naming is None or naming.ref_assigned_by_service:
            raise TemplateError(
                f"!Ref {logical_id}: the service assigns the id of a {resource_type}, and the "
                "local stack has not created this one (it creates only the types local.aws lists)"
            )
        if naming.ref_is_arn:
            return self.get_att(logical_id, "Arn")
        return self.physical_name(logical_id)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        """Return the value of `!GetAtt logical_id.attribute`."""
        if logical_id not in self.resources:
            raise TemplateError(f"!GetAtt {logical_id}.{attribute}: no resource has that name")
        recorded = self._recorded.get(logical_id, {})
        if attribute in recorded:
            return recorded[attribute]

        resource_type = self.resources[logical_id].get("Type", "")
        naming = _NAMING.get(resource_type)
        if attribute == "Arn" and naming is not None:
            arn = naming.arn(self.pseudo, self.physical_name(logical_id))
            if arn is not None:
                return arn
        if attribute in ("Name", "QueueName", "TopicName") and naming is not None:
            return self.physical_name(logical_id)
        raise TemplateError(
            f"!GetAtt {logical_id}.{attribute}: the local stack does not know this attribute "
            f"of a {resource_type} (is the resource created yet?)"
        )


def _parameter_value(name: str, declaration: Mapping[str, Any], raw: Any) -> str | list[str]:
    parameter_type = str(declaration.get("Type", "String"))
    if parameter_type.startswith(LIST_PARAMETER_TYPES):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        value: str | list[str] = [_scalar_text(item).strip() for item in items]
    else:
        value = _scalar_text(raw)

    _check_parameter(name, declaration, parameter_type, value)
    return value


def _scalar_text(raw: Any) -> str:
    # YAML reads `Default: true` and `Default: 5` as a bool and an int, but CloudFormation
    # uses the text as written.
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def _check_parameter(
    name: str, declaration: Mapping[str, Any], parameter_type: str, value: str | list[str]
) -> None:
    """Apply the constraints CloudFormation checks before it creates a stack."""
    items = value if isinstance(value, list) else [value]
    allowed = declaration.get("AllowedValues")
    pattern = declaration.get("AllowedPattern")
    for item in items:
        if allowed is not None and item not in [_scalar_text(entry) for entry in allowed]:
            raise TemplateError(f"parameter {name}={item!r} is not one of {allowed}")
        if pattern is not None and re.fullmatch(str(pattern), item) is None:
            raise TemplateError(f"parameter {name}={item!r} does not match {pattern!r}")
        if "MinLength" in declaration and len(item) < int(declaration["MinLength"]):
            raise TemplateError(
                f"parameter {name} is shorter than MinLength {declaration['MinLength']}"
            )
        if "MaxLength" in declaration and len(item) > int(declaration["MaxLength"]):
            raise TemplateError(
                f"parameter {name} is longer than MaxLength {declaration['MaxLength']}"
            )
        if parameter_type in ("Number", "List<Number>"):
            _check_number(name, declaration, item)


def _check_number(name: str, declaration: Mapping[str, Any], item: str) -> None:
    try:
        number = float(item)
    except ValueError:
        raise TemplateError(f"parameter {name}={item!r} is not a number") from None
    if "MinValue" in declaration and number < float(declaration["MinValue"]):
        raise TemplateError(f"parameter {name}={item} is below MinValue {declaration['MinValue']}")
    if "MaxValue" in declaration and number > float(declaration["MaxValue"]):
        raise TemplateError(f"parameter {name}={item} is above MaxValue {declaration['MaxValue']}")
