"""A pull request's IAM review, in two halves that share no code and, in CI, no runner.

Plans, by the pull request's own code (`python -m ci_review plans`): every stack file's offline
plan (JSON and text) and security review document, into `plans/` and `review/`; a stack whose
preview fails gets what went wrong in `failed/<stack>.txt` instead. Only these files cross over.

Verdict, by the base branch's code (`python -m ci_review verdict`, run from the base checkout):
for every stack file of the pull request's tree (file names read, nothing of it run), the base
branch's plan of the same stack from the base checkout's own `make preview-json`, compared with
the pull request's JSON plan by the base's `python -m offline_preview diff --fail-on-widening`.
The result is a job summary (every diff and every review document) and a pull request comment
(the diffs), each kept under GitHub's size limit, and whether an approval is needed.

A stack needs an approval when its diff widens IAM, when it is new (no base plan: every grant is
new), when the base branch's plan of it cannot be built (nothing to compare against), or when the
base branch's diff cannot read the pull request's plan (a new plan format, or not a plan at all).
So whatever the pull request's code prints, the base's code decides, and fails closed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ci_review.stacks import stack_names

COMMENT_MARKER = "<!-- ci_review:iam-review -->"
# GitHub refuses a comment over 65,536 characters and shows no step summary over 1 MiB.
COMMENT_LIMIT = 60_000
SUMMARY_LIMIT = 1_000_000
# What a failed command's stderr shows of itself in the summary (its tail, where the error is).
PROBLEM_LIMIT = 4_000
# `python -m offline_preview diff`: a file that is not a plan it can read.
EXIT_UNREADABLE_PLAN = 2

APPROVAL = "needs approval (the `iam-widening` environment, docs/workflows.md)"
STATUS_TEXT = {
    "unchanged": "no widening",
    "widened": f"**widened**: {APPROVAL}",
    "new": f"**new stack**: every grant is new; {APPROVAL}",
    "no-base-plan": f"**no base plan**: the base branch's plan failed; {APPROVAL}",
    "unreadable": f"**unreadable plan**: the base branch's diff cannot read it; {APPROVAL}",
    "removed": "removed",
    "failed": "**failed**: see below",
}
NEEDS_APPROVAL = frozenset({"widened", "new", "no-base-plan", "unreadable"})


@dataclass(frozen=True)
class Completed:
    """What a command printed, and its exit code."""

    returncode: int
    stdout: str
    stderr: str


Runner = Callable[[Sequence[str], Path], Completed]


def run_command(command: Sequence[str], cwd: Path) -> Completed:
    result = subprocess.run(
        list(command), cwd=cwd, capture_output=True, text=True, check=False, timeout=900
    )
    return Completed(result.returncode, result.stdout, result.stderr)


@dataclass(frozen=True)
class StackReview:
    """One stack's outcome; `body` is its IAM diff, or what went wrong."""

    stack: str
    status: str
    body: str
    review_document: str | None = None


@dataclass(frozen=True)
class Review:
    stacks: list[StackReview]

    @property
    def needs_approval(self) -> bool:
        return any(stack.status in NEEDS_APPROVAL for stack in self.stacks)

    @property
    def failed(self) -> bool:
        return any(stack.status == "failed" for stack in self.stacks)


def fenced(text: str) -> str:
    """`text` in a code fence longer than any run of backticks inside it."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


FENCE = re.compile(r"(`{3,}|~{3,})")
HEADING = re.compile(r"#{1,5} ")


def _nested(markdown: str) -> str:
    """`markdown` with each heading one level deeper, to sit under its stack's `##` heading
    (lines inside code fences are left alone)."""
    lines: list[str] = []
    fence: str | None = None
    for line in markdown.strip().splitlines():
        opening = FENCE.match(line.lstrip())
        if opening and fence is None:
            fence = opening.group(1)
        elif opening and fence is not None and opening.group(1).startswith(fence):
            fence = None
        elif fence is None and HEADING.match(line):
            line = "#" + line
        lines.append(line)
    return "\n".join(lines)


def _problem(what: str, result: Completed) -> str:
    output = (result.stderr.strip() or result.stdout.strip() or "(no output)")[-PROBLEM_LIMIT:]
    return f"{what} exited {result.returncode}:\n\n{fenced(output)}"


PLAN_FOLDERS = ("plans", "review", "failed")
VERDICT_FOLDERS = ("base", "diff")


class _Workspace:
    """An output folder and its subfolders, one file per stack in each."""

    def __init__(self, out: Path, folders: Sequence[str]) -> None:
        self.out = out
        for folder in folders:
            (out / folder).mkdir(parents=True, exist_ok=True)

    def write(self, folder: str, name: str, text: str) -> Path:
        path = self.out / folder / name
        path.write_text(text, encoding="utf-8")
        return path


@dataclass(frozen=True)
class StackPlan:
    """One stack's plans: `problem` is what went wrong, None when every format was written."""

    stack: str
    problem: str | None = None


def _plan_stack(stack: str, root: Path, files: _Workspace, run: Runner) -> StackPlan:
    preview = [sys.executable, "-m", "offline_preview", "--stack", stack, "--format"]
    for fmt, folder, suffix in (
        ("json", "plans", "json"),
        ("text", "plans", "txt"),
        ("markdown", "review", "md"),
    ):
        result = run([*preview, fmt], root)
        if result.returncode != 0:
            output = result.stderr.strip() or result.stdout.strip() or "(no output)"
            problem = f"The `--format {fmt}` preview exited {result.returncode}:\n{output}\n"
            for written in ("plans/{0}.json", "plans/{0}.txt", "review/{0}.md"):
                (files.out / written.format(stack)).unlink(missing_ok=True)  # all or nothing
            files.write("failed", f"{stack}.txt", problem[-PROBLEM_LIMIT:])
            return StackPlan(stack, problem)
        files.write(folder, f"{stack}.{suffix}", result.stdout)
    return StackPlan(stack)


def build_plans(root: Path, out: Path, run: Runner = run_command) -> list[StackPlan]:
    """Every stack file of `root`: its plans and review document (or its failure) into `out`."""
    root = root.resolve()
    files = _Workspace(out, PLAN_FOLDERS)
    return [_plan_stack(stack, root, files, run) for stack in stack_names(root)]


def _read(path: Path) -> str | None:
    """A file the plans wrote, as text (data from the pull request's code, never run)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return None


def _judge_stack(
    stack: str, plans: Path, base: Path | None, judge: Path, files: _Workspace, run: Runner
) -> StackReview:
    document = _read(plans / "review" / f"{stack}.md")
    head_path = plans / "plans" / f"{stack}.json"
    if not head_path.is_file():
        failure = _read(plans / "failed" / f"{stack}.txt")
        body = (
            f"The pull request's preview of this stack failed:\n\n"
            f"{fenced(failure[-PROBLEM_LIMIT:])}"
            if failure
            else "The pull request's plans hold no plan of this stack."
        )
        return StackReview(stack, "failed", body, document)

    if base is None:
        return StackReview(stack, "new", "No stack file on the base branch.", document)
    base_plan = run(
        ["make", "-s", "--no-print-directory", "-C", str(base), "preview-json", f"STACK={stack}"],
        base,
    )
    if base_plan.returncode != 0:
        body = _problem("The base branch's `make preview-json`", base_plan)
        return StackReview(stack, "no-base-plan", body, document)
    try:
        json.loads(base_plan.stdout)
    except json.JSONDecodeError:
        body = "The base branch's `make preview-json` printed something other than a JSON plan."
        return StackReview(stack, "no-base-plan", body, document)
    base_path = files.write("base", f"{stack}.json", base_plan.stdout)

    diff = run(
        [
            sys.executable,
            "-m",
            "offline_preview",
            "diff",
            str(base_path),
            str(head_path.resolve()),
            "--fail-on-widening",
        ],
        judge,
    )
    if diff.returncode == EXIT_UNREADABLE_PLAN:
        body = _problem("The base branch's IAM diff, reading the pull request's plan,", diff)
        return StackReview(stack, "unreadable", body, document)
    if diff.returncode not in (0, 1):
        return StackReview(stack, "failed", _problem("The IAM diff", diff), document)
    files.write("diff", f"{stack}.md", diff.stdout)
    status = "widened" if diff.returncode == 1 else "unchanged"
    body = _nested(diff.stdout) or _problem("The IAM diff", diff)
    return StackReview(stack, status, body, document)


def judge_plans(
    head: Path, plans: Path, base: Path, out: Path, judge: Path, run: Runner = run_command
) -> Review:
    """The verdict on the plans in `plans` of the stack files in `head` (a checkout of the pull
    request, read for its file names), against `base` (a checkout of the base branch, whose
    `make preview-json` builds its plans), compared by the `offline_preview diff` of `judge`."""
    head, plans, base, judge = head.resolve(), plans.resolve(), base.resolve(), judge.resolve()
    files = _Workspace(out, VERDICT_FOLDERS)
    base_stacks = set(stack_names(base))
    reviews = [
        _judge_stack(stack, plans, base if stack in base_stacks else None, judge, files, run)
        for stack in stack_names(head)
    ]
    head_stacks = {review.stack for review in reviews}
    reviews += [
        StackReview(stack, "removed", "The pull request removes this stack file.")
        for stack in sorted(base_stacks - head_stacks)
    ]
    reviews.sort(key=lambda review: review.stack)
    return Review(reviews)


def build_review(head: Path, base: Path, out: Path, run: Runner = run_command) -> Review:
    """Both halves with this checkout's code (`make review`, to see a review locally): the plans
    of `head` into `out`, then the verdict against `base` with `head`'s diff. CI runs the halves
    apart, the verdict with the base branch's code (docs/workflows.md)."""
    build_plans(head, out, run)
    return judge_plans(head, out, base, out, head, run)


def _fit(head: str, sections: list[str], limit: int, left_out: str) -> str:
    """`head` and as many whole `sections` as fit in `limit` bytes, then what was left out."""
    note_room = len(left_out.encode()) + 100
    text = head
    for index, section in enumerate(sections):
        if len((text + section).encode()) + note_room > limit:
            return text + f"\n_{len(sections) - index} more section(s) left out: {left_out}_\n"
        text += section
    return text


def _overview(review: Review) -> str:
    rows = "".join(
        f"| `{stack.stack}` | {STATUS_TEXT[stack.status]} |\n" for stack in review.stacks
    )
    verdict = (
        "**IAM widens**: `IAM widening approval` waits for a reviewer of the `iam-widening` "
        "environment."
        if review.needs_approval
        else "No stack widens IAM."
    )
    return (
        "# IAM review\n\n"
        "Each stack's offline plan, built by the pull request's code, against the base branch's "
        "plan, compared by the base branch's `python -m offline_preview diff`.\n\n"
        "| stack | against the base branch |\n| --- | --- |\n"
        f"{rows}\n{verdict}\n"
    )


def _diff_sections(review: Review) -> list[str]:
    return [f"\n## `{stack.stack}`\n\n{stack.body}\n" for stack in review.stacks]


def summary_markdown(review: Review) -> str:
    """The job summary: the overview, every stack's diff, then every security review document."""
    documents = [
        f"\n<details><summary>Security review: <code>{stack.stack}</code> (written by the pull "
        f"request's code)</summary>\n\n"
        f"{_nested(stack.review_document)}\n\n</details>\n"
        for stack in review.stacks
        if stack.review_document is not None
    ]
    return _fit(
        _overview(review),
        _diff_sections(review) + documents,
        SUMMARY_LIMIT,
        "over GitHub's step summary limit; the `iam-plans` and `iam-review` artifacts hold "
        "every file",
    )


def comment_markdown(review: Review) -> str:
    """The pull request comment: the marker it is found again by, the overview and the diffs."""
    head = (
        f"{COMMENT_MARKER}\n{_overview(review)}\n"
        "The security review document of each stack is in this run's job summary and its "
        "`iam-plans` artifact.\n"
    )
    return _fit(
        head,
        _diff_sections(review),
        COMMENT_LIMIT,
        "over GitHub's comment limit; the job summary holds every diff",
    )


def write_review(review: Review, out: Path) -> None:
    (out / "summary.md").write_text(summary_markdown(review), encoding="utf-8")
    (out / "comment.md").write_text(comment_markdown(review), encoding="utf-8")
