"""CloudFormation intrinsic functions, evaluated the way CloudFormation does at deploy time."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from typing import Any


class TemplateError(Exception):
    """The template cannot be read or resolved; the message names the parameter or resource."""


class _NoValue:
    """`AWS::NoValue`: the property or list item set to it is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def is_intrinsic(value: Any) -> bool:
    """Tell whether a value is one intrinsic function call, such as `{"Ref": "X"}`."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key == "Ref" or key.startswith("Fn::")


def references(value: Any) -> set[str]:
    """Return the names that a value refers to through Ref, Fn::GetAtt and Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
        return found
    if not isinstance(value, dict):
        return found

    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            target = argument.split(".", 1)[0] if isinstance(argument, str) else argument[0]
            if isinstance(target, str):
                found.add(target)
        elif key == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            if isinstance(text, str):
                for variable in _SUB_VARIABLE.findall(text):
                    if not variable.startswith("!"):
                        found.add(variable.strip().split(".", 1)[0])
            found |= references(argument[1] if isinstance(argument, list) else None)
        else:
            found |= references(argument)
    return found


def _text(value: Any, where: str) -> str:
    """Return the text of a scalar as CloudFormation reads it (`true`, `5`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"{where} needs a string, got {value!r}")


class IntrinsicResolver:
    """Evaluates intrinsic functions against parameter values and resource names.

    Parameters
    ----------
    values
        Parameters and pseudo parameters by name, as `Ref` returns them.
    conditions, mappings
        The template's `Conditions` and `Mappings` sections.
    region
        The region for `Fn::GetAZs`.
    ref, get_att
        Return a resource's `Ref` value and one of its attributes, by logical id.
    """

    def __init__(
        self,
        *,
        values: Mapping[str, Any],
        conditions: Mapping[str, Any],
        mappings: Mapping[str, Any],
        region: str,
        ref: Callable[[str], Any],
        get_att: Callable[[str, str], Any],
    ) -> None:
        self._values = values
        self._conditions = conditions
        self._mappings = mappings
        self._region = region
        self._ref = ref
        self._get_att = get_att
        self._condition_results: dict[str, bool] = {}
        self._conditions_in_progress: set[str] = set()
        self._functions: dict[str, Callable[[Any], Any]] = {
            "Ref": self._resolve_ref,
            "Fn::GetAtt": self._get_attribute,
            "Fn::Sub": self._substitute,
            "Fn::Join": self._join,
            "Fn::Select": self._select,
            "Fn::Split": self._split,
            "Fn::If": self._if,
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": self._base64,
            "Fn::GetAZs": self._get_azs,
            "Fn::ToJsonString": self._to_json_string,
            "Fn::Length": self._length,
            "Fn::Equals": self._evaluate_condition_function,
            "Fn::And": self._evaluate_condition_function,
            "Fn::Or": self._evaluate_condition_function,
            "Fn::Not": self._evaluate_condition_function,
        }

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic function inside a value."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value

        if is_intrinsic(value):
            name, argument = next(iter(value.items()))
            function = self._functions.get(name)
            if function is None:
                raise TemplateError(
                    f"{name} is not supported by the local stack; set the value through a "
                    "parameter instead"
                )
            if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
                return function(value)
            return function(argument)

        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def condition(self, name: str) -> bool:
        """Evaluate a named condition from the `Conditions` section."""
        if name in self._condition_results:
            return self._condition_results[name]
        if name not in self._conditions:
            raise TemplateError(f"condition {name} is not declared in Conditions")
        if name in self._conditions_in_progress:
            raise TemplateError(f"condition {name} refers to itself")

        self._conditions_in_progress.add(name)
        result = self._evaluate_condition(self._conditions[name])
        self._conditions_in_progress.discard(name)
        self._condition_results[name] = result
        return result

    def _evaluate_condition(self, expression: Any) -> bool:
        if isinstance(expression, dict) and set(expression) == {"Condition"}:
            return self.condition(expression["Condition"])
        if not isinstance(expression, dict) or len(expression) != 1:
            raise TemplateError(f"invalid condition {expression!r}")
        return self._evaluate_condition_function(expression)

    def _evaluate_condition_function(self, expression: Mapping[str, Any]) -> bool:
        name, argument = next(iter(expression.items()))
        if name == "Fn::Equals":
            left, right = (self.resolve(item) for item in argument)
            if isinstance(left, list) or isinstance(right, list):
                return bool(left == right)
            return _text(left, "Fn::Equals") == _text(right, "Fn::Equals")
        if name == "Fn::And":
            return all(self._evaluate_condition(item) for item in argument)
        if name == "Fn::Or":
            return any(self._evaluate_condition(item) for item in argument)
        if name == "Fn::Not":
            return not self._evaluate_condition(argument[0])
        raise TemplateError(f"{name} is not a condition function")

    def _resolve_ref(self, name: Any) -> Any:
        name = self.resolve(name)
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._values:
            return self._values[name]
        return self._ref(name)

    def _get_attribute(self, argument: Any) -> Any:
        if isinstance(argument, str):
            logical_id, _, attribute = argument.partition(".")
        else:
            logical_id, attribute = argument[0], self.resolve(argument[1])
        return self._get_att(logical_id, attribute)

    def _substitute(self, argument: Any) -> str:
        if isinstance(argument, list):
            text, variables = argument[0], self.resolve(argument[1])
        else:
            text, variables = argument, {}

        def replace(match: re.Match[str]) -> str:
            variable = match.group(1)
            if variable.startswith("!"):
                return "${" + variable[1:] + "}"
            variable = variable.strip()
            where = f"Fn::Sub variable ${{{variable}}}"
            if variable in variables:
                return _text(variables[variable], where)
            if variable in self._values:
                return _text(self._values[variable], where)
            if "." in variable:
                logical_id, _, attribute = variable.partition(".")
                return _text(self._get_att(logical_id, attribute), where)
            return _text(self._ref(variable), where)

        return _SUB_VARIABLE.sub(replace, _text(text, "Fn::Sub"))

    def _join(self, argument: Any) -> str:
        delimiter, items = argument[0], self.resolve(argument[1])
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Join needs a list, got {items!r}")
        return _text(delimiter, "Fn::Join").join(_text(item, "Fn::Join") for item in items)

    def _select(self, argument: Any) -> Any:
        index, items = int(self.resolve(argument[0])), self.resolve(argument[1])
        if not isinstance(items, list) or not 0 <= index < len(items):
            raise TemplateError(f"Fn::Select index {index} is outside {items!r}")
        return items[index]

    def _split(self, argument: Any) -> list[str]:
        delimiter = _text(argument[0], "Fn::Split")
        return _text(self.resolve(argument[1]), "Fn::Split").split(delimiter)

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = (self.resolve(item) for item in argument[:3])
        try:
            return self.resolve(self._mappings[map_name][top_key][second_key])
        except KeyError:
            raise TemplateError(
                f"Fn::FindInMap: Mappings has no {map_name}.{top_key}.{second_key}"
            ) from None

    def _base64(self, argument: Any) -> str:
        text = _text(self.resolve(argument), "Fn::Base64")
        return base64.b64encode(text.encode()).decode()

    def _get_azs(self, argument: Any) -> list[str]:
        region = self.resolve(argument) or self._region
        return [f"{region}{zone}" for zone in "abc"]

    def _to_json_string(self, argument: Any) -> str:
        return json.dumps(self.resolve(argument), separators=(",", ":"))

    def _length(self, argument: Any) -> int:
        items = self.resolve(argument)
        if not isinstance(items, list):
            raise TemplateError(f"Fn::Length needs a list, got {items!r}")
        return len(items)
