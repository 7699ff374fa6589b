"""Fixtures shared across test modules: recordings every module of a component reads alike."""

from __future__ import annotations

import pytest

from offline_preview.engine import Recording
from tests.support import bastion
from tests.support.harness import PARTITIONS


@pytest.fixture(scope="session", params=PARTITIONS)
def bastion_stack(request: pytest.FixtureRequest) -> tuple[str, Recording]:
    """The bastion with its defaults, per partition (read-only: other tests share it)."""
    partition: str = request.param
    return partition, bastion.run(partition)
