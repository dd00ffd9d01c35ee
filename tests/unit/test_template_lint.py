"""The template passes cfn-lint, which also runs SAM's transform, as `sam deploy` would."""

from __future__ import annotations

from pathlib import Path

from cfnlint.api import lint_file

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def test_template_passes_cfn_lint() -> None:
    matches = lint_file(TEMPLATE)

    assert [str(match) for match in matches] == []
