"""The repository's stack files, as the workflows' matrices read them.

The example stacks (`dev`, `govcloud`, `china`) are previewed offline only; every other
`Pulumi.<name>.yaml` is a customer stack, which the AWS workflows preview and deploy. A stack name
reaches a job's inputs and an environment's name, so only the characters Pulumi allows in a stack
name are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aws_environment import partition_of_region

EXAMPLE_STACKS = ("dev", "govcloud", "china")

# Pulumi's own rule for a stack name; anything else (a space, a quote, `$`) is refused here.
STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class StackListError(Exception):
    """A stack file the workflows cannot use; each entry of `problems` is one line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class StackFile:
    """One `Pulumi.<name>.yaml` and the region its AWS provider deploys to."""

    name: str
    region: str

    @property
    def partition(self) -> str:
        return partition_of_region(self.region)

    @property
    def is_example(self) -> bool:
        return self.name in EXAMPLE_STACKS

    def matrix_entry(self) -> dict[str, str]:
        return {"stack": self.name, "region": self.region, "partition": self.partition}


def stack_names(root: Path) -> list[str]:
    """The names of the stack files in `root`, sorted; StackListError for a name Pulumi refuses."""
    names = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in root.glob("Pulumi.*.yaml"))
    bad = [name for name in names if not STACK_NAME.fullmatch(name)]
    if bad:
        raise StackListError(
            [
                f"Pulumi.{name}.yaml: not a stack name Pulumi accepts "
                "(letters, digits, `_`, `.` and `-`, starting with a letter or digit)"
                for name in bad
            ]
        )
    return names


def _region(path: Path) -> str | None:
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None  # the offline preview names what is wrong with the file
    config = document.get("config") if isinstance(document, dict) else None
    region = config.get("aws:region") if isinstance(config, dict) else None
    return region if isinstance(region, str) and region else None


def find_stacks(root: Path) -> list[StackFile]:
    """Every stack file in `root`, sorted by name, each with its `aws:region`."""
    stacks: list[StackFile] = []
    problems: list[str] = []
    for name in stack_names(root):
        region = _region(root / f"Pulumi.{name}.yaml")
        if region is None:
            problems.append(
                f"Pulumi.{name}.yaml: no `aws:region` under `config:` "
                f"(`python -m offline_preview --stack {name}` names any other problem)"
            )
        else:
            stacks.append(StackFile(name, region))
    if problems:
        raise StackListError(problems)
    return stacks


def customer_matrix(root: Path) -> list[dict[str, str]]:
    """The customer stacks as a job matrix's `include` list: stack, region, partition."""
    return [stack.matrix_entry() for stack in find_stacks(root) if not stack.is_example]
