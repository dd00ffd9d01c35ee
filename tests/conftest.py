"""Fixtures and plugins for the whole suite."""

pytest_plugins = ["pytester", "tests.key_guard"]
