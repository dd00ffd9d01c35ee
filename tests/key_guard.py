"""A pytest plugin that fails any test whose output, logs or exception text shows a key.

It reads every phase's captured stdout, stderr and log records and the failure text, and
looks for anything shaped like a provider key (`sk-` followed by a long run of key
characters). Key hints (`sk-or-v1-…a1b2`) and the providers' masked forms
(`sk-proj-****wxyz`) do not match. Tests that read responses call `assert_no_key` on them.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable

import pytest

KEY_SHAPE = re.compile(r"sk-[A-Za-z0-9][A-Za-z0-9_-]{15,}")


def find_keys(texts: Iterable[str]) -> list[str]:
    """Return the key-shaped strings found, shortened so the report does not repeat them."""
    return [match[:8] + "…" for text in texts for match in KEY_SHAPE.findall(text)]


def assert_no_key(text: str, where: str = "response") -> None:
    leaks = find_keys([text])
    assert not leaks, f"a key reached the {where}: {leaks}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    # Sections accumulate over the phases: read only this phase's own.
    texts = [content for title, content in report.sections if title.endswith(f" {report.when}")]
    if call.excinfo is not None:
        texts.append(str(call.excinfo.value))
    leaks = find_keys(texts)
    if not leaks:
        return
    message = (
        f"{item.nodeid}: a key reached the test's output, logs or exceptions during "
        f"{report.when}: {leaks}"
    )
    if report.failed:
        report.sections.append(("key guard", message))
    else:
        report.outcome = "failed"
        report.longrepr = message
