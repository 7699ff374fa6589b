"""The example stacks (`Pulumi.<stack>.yaml`) planned as `python -m offline_preview` plans them."""

from __future__ import annotations

import copy
import functools

from offline_preview.__main__ import (
    DEFAULT_ACCOUNT_ID,
    poolside_values,
    record_stack_file,
    render,
    stack_environment,
)
from offline_preview.engine import Recording
from offline_preview.stack_file import load_stack_file
from stack_config import parse_stack_config
from tests.support.harness import PROJECT_ROOT

EXAMPLE_STACKS = ("dev", "govcloud", "china")


def _config(stack: str) -> dict[str, str]:
    return load_stack_file(PROJECT_ROOT / f"Pulumi.{stack}.yaml")


@functools.cache
def _recording(stack: str) -> Recording:
    return record_stack_file(_config(stack), stack, DEFAULT_ACCOUNT_ID)


def example_recording(stack: str) -> Recording:
    """The plan of `Pulumi.<stack>.yaml` in the documentation account (a copy per caller)."""
    return copy.deepcopy(_recording(stack))


def example_output(stack: str, format_: str) -> str:
    """What `python -m offline_preview --stack <stack> --format <format_>` prints."""
    config = _config(stack)
    stack_config = parse_stack_config(poolside_values(config))
    env = stack_environment(config, DEFAULT_ACCOUNT_ID)
    return render(format_, example_recording(stack), stack_config, env)
