"""The offline preview run in this process: `main(argv)` with stdout and stderr captured.

`python -m offline_preview` runs exactly `sys.exit(main())`; one test (`offline_preview/test_main.py`)
runs it as a subprocess to show a user sees the same.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any

from offline_preview.__main__ import main


def run_preview(*argv: str) -> Preview:
    """`python -m offline_preview <argv>`, run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return Preview(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Preview:
    """What a run of the preview printed, and its exit code."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return self.stderr.splitlines()

    def states(self) -> list[dict[str, Any]]:
        """The planned resources' states (the JSON plan's `newState`s)."""
        assert self.exit_code == 0, self.stderr
        assert self.stderr == ""
        return [step["newState"] for step in json.loads(self.stdout)["steps"]]

    def named(self, type_: str, name: str) -> dict[str, Any]:
        """The inputs of the one planned resource of `type_` whose `name` input is `name`."""
        [inputs] = [
            s["inputs"]
            for s in self.states()
            if s["type"] == type_ and s["inputs"].get("name") == name
        ]
        return dict(inputs)

    def policy(self, name: str) -> dict[str, Any]:
        text = self.named("aws:iam/policy:Policy", name)["policy"]
        assert isinstance(text, str)
        return dict(json.loads(text))

    def policy_text(self, name: str) -> str:
        text = self.named("aws:iam/policy:Policy", name)["policy"]
        assert isinstance(text, str)
        return text

    def trust_text(self, role_name: str) -> str:
        text = self.named("aws:iam/role:Role", role_name)["assumeRolePolicy"]
        assert isinstance(text, str)
        return text

    def issuer(self) -> str:
        """The created cluster's issuer, as the plan's OIDC provider has it."""
        [url] = [
            s["inputs"]["url"]
            for s in self.states()
            if s["type"] == "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
        ]
        assert isinstance(url, str)
        return url.removeprefix("https://")
