"""`docs/iam/<stack>.md` is the review document of each example stack as the program renders it
now: a change to a role, a policy, a heading or pulumi-eks's arguments that is not regenerated
fails here (`make docs` rewrites them)."""

from __future__ import annotations

import difflib

import pytest

from tests.support.examples import EXAMPLE_STACKS, example_output
from tests.support.harness import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs" / "iam"


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_committed_review_document_is_the_rendered_one(stack: str) -> None:
    path = DOCS / f"{stack}.md"
    assert path.is_file(), f"docs/iam/{stack}.md is missing: run `make docs`"
    committed = path.read_text(encoding="utf-8")
    rendered = example_output(stack, "markdown")
    changes = "\n".join(
        list(
            difflib.unified_diff(
                committed.splitlines(), rendered.splitlines(), "committed", "rendered", lineterm=""
            )
        )[:40]
    )
    assert committed == rendered, (
        f"docs/iam/{stack}.md is stale: run `make docs` and commit it.\n{changes}"
    )


def test_every_example_stack_has_a_document_and_no_other_is_left() -> None:
    assert sorted(p.stem for p in DOCS.glob("*.md")) == sorted(EXAMPLE_STACKS)
