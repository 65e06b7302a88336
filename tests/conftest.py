"""Options shared by the whole test suite.

``--slow`` runs the heavier variants (tests marked ``slow``): larger
hypothesis example counts, the big torture run, the load tests and the
repeated fault injections. Without it they are skipped.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow",
        action="store_true",
        default=False,
        help="also run the heavier variants (tests marked slow)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="heavier variant: run with --slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
