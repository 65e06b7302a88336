"""Options shared by the whole test suite.

``--slow`` runs the heavier variants (the tests marked ``slow``: the big
torture run, the load tests, the repeated fault injections) and ten times more
hypothesis examples. Without it the slow tests are skipped.
"""

from __future__ import annotations

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a test dependency; only the fuzz tests need it
    settings = None
else:
    # Example counts of the property-based tests: modest by default (the whole
    # default run stays fast), ten times more with --slow.
    _QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
    settings.register_profile(
        "iomonitor", max_examples=100, deadline=None, suppress_health_check=_QUIET
    )
    settings.register_profile(
        "iomonitor-slow", max_examples=1000, deadline=None, suppress_health_check=_QUIET
    )
    settings.load_profile("iomonitor")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the heavier variants (tests marked slow)",
    )


def pytest_configure(config: pytest.Config) -> None:
    if settings is not None and config.getoption("--slow"):
        settings.load_profile("iomonitor-slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="heavier variant: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
