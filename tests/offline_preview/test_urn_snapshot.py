"""The URNs of the example stacks' plans, against the committed snapshots in `tests/snapshots/`.

A changed URN is a resource `pulumi up` would delete and create anew (a bucket, a key, a role).
An intended rename or re-parenting carries an `alias` on the resource, so a deployed stack keeps
it, and rewrites the snapshot (`make snapshots`) in the same commit.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from offline_preview.__main__ import main

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


@pytest.mark.parametrize("stack", ["dev", "govcloud", "china"])
def test_urns_are_the_snapshot(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--stack", stack, "--format", "urns"]) == 0
    planned = capsys.readouterr().out
    snapshot = (SNAPSHOTS / f"{stack}.urns").read_text(encoding="utf-8")
    changes = "\n".join(
        difflib.unified_diff(
            snapshot.splitlines(), planned.splitlines(), "snapshot", "plan", lineterm="", n=0
        )
    )
    assert planned == snapshot, (
        f"the {stack} stack's URNs changed: `pulumi up` would replace these resources. If the "
        f"rename is intended, alias the old URN and run `make snapshots`.\n{changes}"
    )


def test_urns_follow_the_engines_rules(capsys: pytest.CaptureFixture[str]) -> None:
    """Grandchildren carry every ancestor's type, and top-level resources no stack type, as in
    `pulumi up`'s URNs (the SDK's own mock monitor keeps only the parent's last type)."""
    assert main(["--stack", "dev", "--format", "urns"]) == 0
    urns = capsys.readouterr().out.splitlines()
    assert "urn:pulumi:dev::poolside::poolside:aws:Bastion::bastion" in urns
    assert (
        "urn:pulumi:dev::poolside::poolside:aws:Bastion$poolside:aws:IamRole$aws:iam/role:Role"
        "::bastion-iam-role"
    ) in urns
    assert "urn:pulumi:dev::poolside::pulumi:pulumi:Stack::poolside-dev" in urns
    assert not [u for u in urns if "pulumi:pulumi:Stack$" in u]
