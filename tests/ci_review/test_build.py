"""The pull request's IAM review: which commands build it, in which checkout (the plans in the
pull request's, the verdict in the base's, which only reads the plans), what each stack's outcome
is, and the summary and comment it writes. The previews and the diff are a recording stand-in
here, answering as their interfaces do (`--format json|text|markdown`, `diff ...
--fail-on-widening` exiting 1 on a widening, 2 on a file that is no plan); `make review` runs the
real ones."""

from __future__ import annotations

import io
import sys
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ci_review import build
from ci_review.__main__ import main
from ci_review.build import (
    COMMENT_MARKER,
    Completed,
    Review,
    StackReview,
    build_plans,
    build_review,
    comment_markdown,
    judge_plans,
    summary_markdown,
    write_review,
)

PLAN = '{"steps": []}\n'


@dataclass
class FakeTools:
    """Answers the preview, make and diff commands; records each (command, cwd)."""

    diff_exit: dict[str, int] = field(default_factory=dict)
    failing: set[tuple[str, str]] = field(default_factory=set)  # (stack, what)
    base_output: str = PLAN
    calls: list[tuple[list[str], Path]] = field(default_factory=list)

    def __call__(self, command: Sequence[str], cwd: Path) -> Completed:
        command = list(command)
        self.calls.append((command, cwd))
        if command[0] == "make":
            stack = command[-1].removeprefix("STACK=")
            if (stack, "base") in self.failing:
                return Completed(2, "", f"poolside:cluster.vpcId: required ({stack})\n")
            return Completed(0, self.base_output, "")
        if command[3] == "diff":
            stack = Path(command[5]).stem
            if (stack, "diff") in self.failing:
                return Completed(3, "", "Traceback ... KeyError: 'steps'\n")
            if (stack, "unreadable") in self.failing:
                return Completed(2, "", f"{command[5]}: not a plan (no `steps` list)\n")
            code = self.diff_exit.get(stack, 0)
            body = f"## IAM diff\n\n{'+ s3:PutObject' if code else 'no change'} ({stack})\n"
            return Completed(code, body, "")
        stack, fmt = command[4], command[6]
        if (stack, fmt) in self.failing:
            return Completed(2, "", f"Pulumi.{stack}.yaml: config: nope\n")
        outputs = {"json": PLAN, "text": f"plan of {stack}\n", "markdown": f"# Review {stack}\n"}
        return Completed(0, outputs[fmt], "")


def _checkouts(tmp_path: Path, head: list[str], base: list[str]) -> tuple[Path, Path]:
    for folder, stacks in (("head", head), ("base", base)):
        (tmp_path / folder).mkdir()
        for stack in stacks:
            (tmp_path / folder / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    return tmp_path / "head", tmp_path / "base"


def test_each_stack_is_planned_in_head_and_base_then_diffed(tmp_path: Path) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    tools = FakeTools()
    out = tmp_path / "out"
    review = build_review(head, base, out, tools)
    preview = [sys.executable, "-m", "offline_preview", "--stack", "dev", "--format"]
    assert tools.calls == [
        ([*preview, "json"], head),
        ([*preview, "text"], head),
        ([*preview, "markdown"], head),
        (
            ["make", "-s", "--no-print-directory", "-C", str(base), "preview-json", "STACK=dev"],
            base,
        ),
        (
            [
                sys.executable,
                "-m",
                "offline_preview",
                "diff",
                str(out / "base" / "dev.json"),
                str(out / "plans" / "dev.json"),
                "--fail-on-widening",
            ],
            head,
        ),
    ]
    assert review == Review(
        [StackReview("dev", "unchanged", "### IAM diff\n\nno change (dev)", "# Review dev\n")]
    )
    assert not review.needs_approval and not review.failed
    files = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert files == {
        "plans/dev.json": PLAN,
        "plans/dev.txt": "plan of dev\n",
        "review/dev.md": "# Review dev\n",
        "base/dev.json": PLAN,
        "diff/dev.md": "## IAM diff\n\nno change (dev)\n",
    }


def _plans(tmp_path: Path, stacks: list[str], tools: FakeTools) -> Path:
    """What the plans job hands over: `build_plans` of a checkout with these stack files."""
    checkout = tmp_path / "pr"
    checkout.mkdir()
    for stack in stacks:
        (checkout / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    build_plans(checkout, tmp_path / "plans", tools)
    return tmp_path / "plans"


def test_the_plans_are_written_per_stack_and_a_failed_one_leaves_only_its_error(
    tmp_path: Path,
) -> None:
    head, _ = _checkouts(tmp_path, ["china", "dev"], [])
    tools = FakeTools(failing={("dev", "markdown")})
    out = tmp_path / "out"
    plans = build_plans(head, out, tools)
    assert [(plan.stack, plan.problem) for plan in plans] == [
        ("china", None),
        ("dev", "The `--format markdown` preview exited 2:\nPulumi.dev.yaml: config: nope\n"),
    ]
    assert [(command[4], command[6], cwd) for command, cwd in tools.calls] == [
        (stack, fmt, head) for stack in ("china", "dev") for fmt in ("json", "text", "markdown")
    ]
    files = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    assert files == {
        "plans/china.json": PLAN,
        "plans/china.txt": "plan of china\n",
        "review/china.md": "# Review china\n",
        # dev's JSON and text plans were written before its markdown failed: none is kept
        "failed/dev.txt": "The `--format markdown` preview exited 2:\nPulumi.dev.yaml: config: nope\n",
    }


def test_the_verdict_runs_only_the_base_checkouts_code_and_reads_the_plans_as_data(
    tmp_path: Path,
) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    plans = _plans(tmp_path, ["dev"], FakeTools())
    tools = FakeTools()
    out = tmp_path / "review"
    review = judge_plans(head, plans, base, out, base, tools)
    assert tools.calls == [
        (
            ["make", "-s", "--no-print-directory", "-C", str(base), "preview-json", "STACK=dev"],
            base,
        ),
        (
            [
                sys.executable,
                "-m",
                "offline_preview",
                "diff",
                str(out / "base" / "dev.json"),
                str(plans / "plans" / "dev.json"),
                "--fail-on-widening",
            ],
            base,
        ),
    ]
    assert review == Review(
        [StackReview("dev", "unchanged", "### IAM diff\n\nno change (dev)", "# Review dev\n")]
    )


def test_the_verdict_lists_the_pull_requests_stack_files_not_the_plans(tmp_path: Path) -> None:
    """A plan missing for a stack file fails it (its error fenced, as the pull request's words);
    a plan without a stack file is not reviewed; a stack file gone from the tree is removed."""
    head, base = _checkouts(tmp_path, ["acme", "dev"], ["dev", "old"])
    plans = _plans(tmp_path, ["dev", "extra", "old"], FakeTools(failing={("dev", "json")}))
    review = judge_plans(head, plans, base, tmp_path / "review", base, FakeTools())
    assert [(s.stack, s.status) for s in review.stacks] == [
        ("acme", "failed"),
        ("dev", "failed"),
        ("old", "removed"),
    ]
    assert review.failed and not review.needs_approval
    assert review.stacks[0].body == "The pull request's plans hold no plan of this stack."
    assert review.stacks[1].body == (
        "The pull request's preview of this stack failed:\n\n"
        "```\nThe `--format json` preview exited 2:\nPulumi.dev.yaml: config: nope\n```"
    )


def test_a_plan_the_base_branchs_diff_cannot_read_needs_approval(tmp_path: Path) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    plans = _plans(tmp_path, ["dev"], FakeTools())
    tools = FakeTools(failing={("dev", "unreadable")})
    (review,) = judge_plans(head, plans, base, tmp_path / "review", base, tools).stacks
    assert review.status == "unreadable"
    assert review.body == (
        "The base branch's IAM diff, reading the pull request's plan, exited 2:\n\n"
        f"```\n{plans / 'plans' / 'dev.json'}: not a plan (no `steps` list)\n```"
    )
    assert Review([review]).needs_approval and not Review([review]).failed


def test_widened_new_and_unplannable_base_stacks_need_approval_a_removed_one_does_not(
    tmp_path: Path,
) -> None:
    head, base = _checkouts(
        tmp_path, ["acme", "china", "dev", "govcloud"], ["china", "dev", "old", "govcloud"]
    )
    tools = FakeTools(diff_exit={"dev": 1}, failing={("govcloud", "base")})
    review = build_review(head, base, tmp_path / "out", tools)
    assert [(s.stack, s.status) for s in review.stacks] == [
        ("acme", "new"),
        ("china", "unchanged"),
        ("dev", "widened"),
        ("govcloud", "no-base-plan"),
        ("old", "removed"),
    ]
    assert review.needs_approval and not review.failed
    assert review.stacks[3].body == (
        "The base branch's `make preview-json` exited 2:\n\n"
        "```\npoolside:cluster.vpcId: required (govcloud)\n```"
    )
    # a new stack has no base plan to build and nothing to diff
    acme_calls = [command for command, _ in tools.calls if "acme" in " ".join(command)]
    assert [command[-1] for command in acme_calls] == ["json", "text", "markdown"]


@pytest.mark.parametrize(("widening", "needs"), [({"dev": 1}, True), ({"dev": 0}, False)])
def test_approval_follows_the_diffs_exit_code_alone(
    tmp_path: Path, widening: dict[str, int], needs: bool
) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    assert (
        build_review(head, base, tmp_path / "out", FakeTools(diff_exit=widening)).needs_approval
        is needs
    )


def test_base_output_that_is_not_a_plan_needs_approval(tmp_path: Path) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    tools = FakeTools(base_output="Collecting pulumi\n" + PLAN)
    (review,) = build_review(head, base, tmp_path / "out", tools).stacks
    assert (review.status, review.body) == (
        "no-base-plan",
        "The base branch's `make preview-json` printed something other than a JSON plan.",
    )


@pytest.mark.parametrize(
    ("what", "opening"),
    [
        (
            "markdown",
            "The pull request's preview of this stack failed:\n\n```\n"
            "The `--format markdown` preview exited 2:\nPulumi.dev.yaml: config: nope\n```",
        ),
        ("diff", "The IAM diff exited 3:\n\n```\nTraceback ... KeyError: 'steps'\n```"),
    ],
)
def test_a_failing_preview_or_diff_fails_the_stack_with_its_stderr(
    tmp_path: Path, what: str, opening: str
) -> None:
    head, base = _checkouts(tmp_path, ["china", "dev"], ["china", "dev"])
    review = build_review(head, base, tmp_path / "out", FakeTools(failing={("dev", what)}))
    assert [(s.stack, s.status) for s in review.stacks] == [
        ("china", "unchanged"),
        ("dev", "failed"),
    ]
    assert review.failed and not review.needs_approval
    assert review.stacks[1].body == opening


def test_summary_has_every_diff_and_review_document_the_comment_the_diffs(tmp_path: Path) -> None:
    head, base = _checkouts(tmp_path, ["acme", "dev"], ["dev"])
    review = build_review(head, base, tmp_path / "out", FakeTools(diff_exit={"dev": 1}))
    approval = "needs approval (the `iam-widening` environment, docs/workflows.md)"
    overview = (
        "# IAM review\n\n"
        "Each stack's offline plan, built by the pull request's code, against the base branch's "
        "plan, compared by the base branch's `python -m offline_preview diff`.\n\n"
        "| stack | against the base branch |\n| --- | --- |\n"
        f"| `acme` | **new stack**: every grant is new; {approval} |\n"
        f"| `dev` | **widened**: {approval} |\n\n"
        "**IAM widens**: `IAM widening approval` waits for a reviewer of the `iam-widening` "
        "environment.\n"
    )
    diffs = (
        "\n## `acme`\n\nNo stack file on the base branch.\n"
        "\n## `dev`\n\n### IAM diff\n\n+ s3:PutObject (dev)\n"
    )
    assert summary_markdown(review) == (
        overview
        + diffs
        + "\n<details><summary>Security review: <code>acme</code> (written by the pull request's "
        "code)</summary>\n\n## Review acme\n\n</details>\n"
        "\n<details><summary>Security review: <code>dev</code> (written by the pull request's "
        "code)</summary>\n\n## Review dev\n\n</details>\n"
    )
    assert comment_markdown(review) == (
        f"{COMMENT_MARKER}\n{overview}\n"
        "The security review document of each stack is in this run's job summary and its "
        "`iam-plans` artifact.\n" + diffs
    )


def test_no_widening_says_so() -> None:
    review = Review([StackReview("dev", "unchanged", "no change")])
    assert "\n| `dev` | no widening |\n\nNo stack widens IAM.\n" in summary_markdown(review)


def test_the_comment_and_summary_stay_under_githubs_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "COMMENT_LIMIT", 2_000)
    monkeypatch.setattr(build, "SUMMARY_LIMIT", 3_100)
    review = Review([StackReview(f"s{i}", "widened", "x" * 700, "y" * 700) for i in range(4)])
    comment = comment_markdown(review)
    assert len(comment.encode()) <= 2_000
    assert comment.count("x" * 700) == 1
    assert comment.endswith(
        "\n_3 more section(s) left out: over GitHub's comment limit; "
        "the job summary holds every diff_\n"
    )
    summary = summary_markdown(review)
    assert len(summary.encode()) <= 3_100
    assert summary.count("x" * 700) == 3 and "y" * 700 not in summary
    assert summary.endswith(
        "\n_5 more section(s) left out: over GitHub's step summary limit; "
        "the `iam-plans` and `iam-review` artifacts hold every file_\n"
    )


def test_a_problem_with_backticks_cannot_close_its_fence() -> None:
    result = Completed(1, "", "bad ```\n``` `x`\n")
    body = build._problem("The IAM diff", result)
    assert body == "The IAM diff exited 1:\n\n````\nbad ```\n``` `x`\n````"


def test_headings_nest_under_the_stack_but_code_stays_as_it_is() -> None:
    markdown = "# IAM changes\n\n## role `x`\n\n```sh\n# a comment\n```\n\n###### deepest\n"
    assert build._nested(markdown) == (
        "## IAM changes\n\n### role `x`\n\n```sh\n# a comment\n```\n\n###### deepest"
    )


def _main(argv: list[str], root: Path, tools: FakeTools) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv, root=root, run=tools)
    return code, out.getvalue(), err.getvalue()


def test_build_prints_each_stack_and_writes_the_widening_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    head, base = _checkouts(tmp_path, ["china", "dev"], ["china", "dev"])
    github_output = tmp_path / "github_output"
    github_output.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    out = tmp_path / "out"
    argv = ["build", "--base-dir", str(base), "--out", str(out)]
    code, stdout, stderr = _main(argv, head, FakeTools(diff_exit={"dev": 1}))
    assert (code, stderr) == (0, "")
    assert stdout == (
        "china: no widening\n"
        "dev: widened: needs approval (the `iam-widening` environment, docs/workflows.md)\n"
    )
    assert github_output.read_text() == "earlier=1\nwidening=true\n"
    assert (out / "comment.md").read_text().startswith(COMMENT_MARKER + "\n")
    assert "\n## Review dev\n" in (out / "summary.md").read_text()


def test_build_exits_1_when_a_stack_fails_and_still_writes_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    out = tmp_path / "out"
    argv = ["build", "--base-dir", str(base), "--out", str(out)]
    code, stdout, _ = _main(argv, head, FakeTools(failing={("dev", "json")}))
    assert (code, stdout) == (1, "dev: failed: see below\n")
    assert "Pulumi.dev.yaml: config: nope" in (out / "summary.md").read_text()


def test_written_files_are_the_rendered_markdown(tmp_path: Path) -> None:
    review = Review([StackReview("dev", "unchanged", "no change", "# Review dev\n")])
    write_review(review, tmp_path)
    assert (tmp_path / "summary.md").read_text() == summary_markdown(review)
    assert (tmp_path / "comment.md").read_text() == comment_markdown(review)


def test_plans_prints_each_stack_and_exits_1_when_one_failed(tmp_path: Path) -> None:
    head, _ = _checkouts(tmp_path, ["china", "dev"], [])
    out = tmp_path / "out"
    code, stdout, stderr = _main(["plans", "--out", str(out)], head, FakeTools())
    assert (code, stdout, stderr) == (0, "china: planned\ndev: planned\n", "")
    failing = FakeTools(failing={("dev", "text")})
    code, stdout, _ = _main(["plans", "--out", str(tmp_path / "again")], head, failing)
    assert (code, stdout) == (1, "china: planned\ndev: failed\n")


def test_verdict_judges_against_its_own_checkout_and_writes_the_widening_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`verdict` takes no base directory: the checkout whose code runs is the base it judges
    against, and the one whose diff compares."""
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    plans = _plans(tmp_path, ["dev"], FakeTools())
    github_output = tmp_path / "github_output"
    github_output.write_text("")
    monkeypatch.setenv("GITHUB_OUTPUT", str(github_output))
    out = tmp_path / "review"
    argv = ["verdict", "--head-dir", str(head), "--plans", str(plans), "--out", str(out)]
    tools = FakeTools(diff_exit={"dev": 1})
    code, stdout, stderr = _main(argv, base, tools)
    assert (code, stderr) == (0, "")
    assert stdout == (
        "dev: widened: needs approval (the `iam-widening` environment, docs/workflows.md)\n"
    )
    assert github_output.read_text() == "widening=true\n"
    assert {cwd for _, cwd in tools.calls} == {base}
    assert (out / "comment.md").read_text().startswith(COMMENT_MARKER + "\n")


def test_a_stack_file_name_pulumi_refuses_stops_the_verdict(tmp_path: Path) -> None:
    head, base = _checkouts(tmp_path, ["dev"], ["dev"])
    (head / "Pulumi.$(id).yaml").write_text("config: {}\n")
    argv = ["verdict", "--head-dir", str(head), "--plans", str(tmp_path), "--out", str(tmp_path)]
    code, stdout, stderr = _main(argv, base, FakeTools())
    assert (code, stdout) == (2, "")
    assert stderr.startswith("Pulumi.$(id).yaml: not a stack name Pulumi accepts")
