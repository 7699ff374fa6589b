"""The config model in tests: parse a raw `poolside` namespace with the smallest valid cluster."""

from __future__ import annotations

from typing import Any

import pytest

from stack_config import StackConfig, StackConfigError, parse_stack_config
from tests.support.harness import CLUSTER


def with_cluster(raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` plus the smallest valid cluster section, unless it names its own."""
    return {"cluster": CLUSTER, **raw}


def parse(raw: dict[str, Any]) -> StackConfig:
    return parse_stack_config(with_cluster(raw))


def problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(StackConfigError) as caught:
        parse_stack_config(with_cluster(raw))
    return caught.value.problems
