"""The comment of one stack's `pulumi preview`: the outcome, the output fenced so that nothing in
it can close the fence, and its tail (Pulumi's summary) kept under GitHub's comment limit."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from ci_review.__main__ import main
from ci_review.preview_comment import preview_comment

OUTPUT = """Previewing update (acme):
     Type                 Name            Plan
 +   pulumi:pulumi:Stack  poolside-acme   create
 +   └─ aws:s3:Bucket     models          create

Resources:
    + 2 to create
"""


def test_the_comment_is_the_outcome_and_the_output_fenced() -> None:
    assert preview_comment("acme", "success", OUTPUT) == (
        "### `pulumi preview` of `acme`: succeeded\n\n```\n" + OUTPUT.rstrip() + "\n```\n"
    )


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        ("failure", "**failed**: the job's log has the error"),
        ("skipped", "**did not run**: an earlier step of the job failed"),
    ],
)
def test_a_preview_that_failed_or_did_not_run_says_so(outcome: str, said: str) -> None:
    assert preview_comment("acme", outcome, "") == (
        f"### `pulumi preview` of `acme`: {said}\n\n"
        "The preview printed nothing: the job's log and summary have the rest.\n"
    )


def test_output_with_backticks_cannot_close_the_fence() -> None:
    comment = preview_comment("acme", "success", "``` not code\n````\n# heading?")
    assert comment == (
        "### `pulumi preview` of `acme`: succeeded\n\n"
        "`````\n``` not code\n````\n# heading?\n`````\n"
    )


def test_a_long_output_keeps_its_tail_under_the_limit() -> None:
    lines = [f"line {index:04d} " + "x" * 80 for index in range(100)]
    comment = preview_comment("acme", "success", "\n".join(lines), limit=2_000)
    assert len(comment.encode()) <= 2_000
    kept = [line for line in comment.splitlines() if line.startswith("line ")]
    assert kept == lines[-len(kept) :] and len(kept) >= 15
    assert f"_{100 - len(kept)} earlier line(s) left out: over GitHub's comment limit" in comment


def test_a_long_run_of_backticks_still_fits() -> None:
    output = "`" * 900 + "\n" + "\n".join(f"line {index}" for index in range(200))
    comment = preview_comment("acme", "success", output, limit=2_000)
    assert len(comment.encode()) <= 2_000
    assert comment.rstrip().endswith("line 199\n```")


def test_the_command_prints_the_comment_of_the_output_file(tmp_path: Path) -> None:
    (tmp_path / "preview.txt").write_text(OUTPUT)
    argv = ["preview-comment", "--stack", "acme", "--outcome", "success"]
    out = io.StringIO()
    with redirect_stdout(out):
        code = main([*argv, "--output", str(tmp_path / "preview.txt")])
    assert (code, out.getvalue()) == (0, preview_comment("acme", "success", OUTPUT))


def test_the_command_refuses_a_name_that_is_no_stack(tmp_path: Path) -> None:
    """The comment job builds the comment's marker from the stack's name: only Pulumi's names."""
    err = io.StringIO()
    argv = ["preview-comment", "--stack", "a -->", "--outcome", "success", "--output", "x"]
    with redirect_stderr(err), pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "argument --stack: not a stack name Pulumi accepts: 'a -->'" in err.getvalue()
