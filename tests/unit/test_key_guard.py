"""The suite-wide guard fails a test whose logs or errors show a key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.key_guard import find_keys

LEAKING_TEST = """
from aws_lambda_powertools import Logger

def test_logs_a_key():
    Logger(service="guarded").info("saving", api_key="sk-or-v1-" + "a1" * 32)
"""

RAISING_TEST = """
def test_raises_with_a_key():
    raise ValueError("bad key sk-proj-" + "Zz9" * 20)
"""

CLEAN_TEST = """
def test_prints_a_hint():
    print("saved sk-or-v1-…a1b2 and sk-proj-****************wxyz")
"""


REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_guarded(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[[str], pytest.RunResult]:
    """Run a test file in a pytest that loads the guard; its output is consumed, not reported."""
    monkeypatch.setenv("PYTHONPATH", f"{REPOSITORY}:{REPOSITORY / 'layers' / 'shared'}")

    def run(source: str) -> pytest.RunResult:
        pytester.makepyfile(source)
        result = pytester.runpytest_subprocess("-p", "tests.key_guard")
        capsys.readouterr()
        return result

    return run


def test_find_keys_ignores_hints_and_masks() -> None:
    assert find_keys(["sk-or-v1-…a1b2", "sk-proj-****wxyz", "task-runner"]) == []


def test_find_keys_finds_keys_of_each_shape() -> None:
    texts = ["x sk-or-v1-" + "0f" * 32, "sk-proj-" + "Ab_-" * 10, "sk-" + "Q" * 48]
    assert len(find_keys(texts)) == 3


@pytest.mark.parametrize("source", [LEAKING_TEST, RAISING_TEST], ids=["log", "exception"])
def test_guard_fails_leaking_test(
    run_guarded: Callable[[str], pytest.RunResult], source: str
) -> None:
    result = run_guarded(source)
    result.assert_outcomes(failed=1)
    assert "a key reached the test's output" in result.stdout.str()


def test_guard_passes_clean_test(run_guarded: Callable[[str], pytest.RunResult]) -> None:
    result = run_guarded(CLEAN_TEST)
    result.assert_outcomes(passed=1)
