"""The docs that state facts about the plan stay equal to the plan."""

from __future__ import annotations

import re

import pytest

from tests.support.harness import PROJECT_ROOT
from tests.support.preview import run_preview

PREREQUISITES = (PROJECT_ROOT / "docs" / "prerequisites.md").read_text()


@pytest.mark.parametrize("stack", ["dev", "govcloud", "china"])
def test_every_aws_resource_type_of_the_plan_is_in_the_prerequisites(stack: str) -> None:
    states = run_preview("--stack", stack, "--format", "json").states()
    planned = {s["type"].rpartition(":")[0] for s in states if s["type"].startswith("aws:")}
    listed = set(re.findall(r"`(aws:[a-z0-9]+/[A-Za-z0-9]+)`", PREREQUISITES))
    assert planned <= listed, sorted(planned - listed)
