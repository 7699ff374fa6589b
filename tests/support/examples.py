"""The example stacks (`Pulumi.<stack>.yaml`) planned as `python -m offline_preview` plans them."""

from __future__ import annotations

import copy
import functools

from offline_preview.__main__ import DEFAULT_ACCOUNT_ID, record_stack_file
from offline_preview.engine import Recording
from offline_preview.stack_file import load_stack_file
from tests.support.harness import PROJECT_ROOT

EXAMPLE_STACKS = ("dev", "govcloud", "china")


@functools.cache
def _recording(stack: str) -> Recording:
    config = load_stack_file(PROJECT_ROOT / f"Pulumi.{stack}.yaml")
    return record_stack_file(config, stack, DEFAULT_ACCOUNT_ID)


def example_recording(stack: str) -> Recording:
    """The plan of `Pulumi.<stack>.yaml` in the documentation account (a copy per caller)."""
    return copy.deepcopy(_recording(stack))
