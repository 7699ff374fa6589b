"""The example stacks' JSON plans, the policy pack's offline check run on one, and the IAM diff
of two.

A plan is made once per session and stack (the offline preview is deterministic); each caller
gets its own copy to plant violations in.
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policy.check import main as check_main
from tests.support.preview import Preview, run_preview

STACKS = ("dev", "govcloud", "china")


@functools.cache
def _plan_text(stack: str) -> str:
    preview = run_preview("--stack", stack, "--format", "json")
    assert preview.exit_code == 0, preview.stderr
    return preview.stdout


def plan(stack: str = "dev") -> dict[str, Any]:
    """The stack's plan (`python -m offline_preview --stack <stack> --format json`), a copy."""
    loaded: dict[str, Any] = json.loads(_plan_text(stack))
    return loaded


def plan_text(stack: str = "dev") -> str:
    return _plan_text(stack)


def states(planned: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for step in planned["steps"]:
        yield step["newState"]


def state(planned: dict[str, Any], type_: str, name: str) -> dict[str, Any]:
    """The planned state of the one resource of `type_` named `name` (its URN's last part)."""
    [found] = [s for s in states(planned) if s["type"] == type_ and s["urn"].endswith(f"::{name}")]
    return found


def add_state(
    planned: dict[str, Any],
    type_: str,
    name: str,
    inputs: dict[str, Any],
    property_dependencies: dict[str, list[str]] | None = None,
) -> str:
    """Plant a new resource at the top of the stack; returns its URN."""
    stack = planned["steps"][0]["newState"]["urn"].split("::")[0]  # `urn:pulumi:<stack>`
    urn = f"{stack}::poolside::{type_}::{name}"
    planned["steps"].append(
        {
            "op": "create",
            "urn": urn,
            "newState": {
                "type": type_,
                "urn": urn,
                "inputs": inputs,
                "propertyDependencies": property_dependencies or {},
            },
        }
    )
    return urn


@dataclass(frozen=True)
class Check:
    """What `python -m policy.check` printed, and its exit code."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def run_check(*argv: str) -> Check:
    """`python -m policy.check <argv>`, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = check_main(list(argv))
    return Check(code, out.getvalue(), err.getvalue())


def check_plan(planned: dict[str, Any]) -> Check:
    """The offline check on a plan, written to a file as a user would pass it."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "plan.json"
        path.write_text(json.dumps(planned, indent=2, sort_keys=True), encoding="utf-8")
        return run_check(str(path))


def diff_plans(folder: Path, base: dict[str, Any], head: dict[str, Any], *flags: str) -> Preview:
    """`python -m offline_preview diff base.json head.json <flags>` on two plans written to
    `folder`, run in this process."""
    base_file, head_file = folder / "base.json", folder / "head.json"
    base_file.write_text(json.dumps(base, indent=2), encoding="utf-8")
    head_file.write_text(json.dumps(head, indent=2), encoding="utf-8")
    return run_preview("diff", str(base_file), str(head_file), *flags)
