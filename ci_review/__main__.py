"""`python -m ci_review stacks | plans | verdict | build | preview-comment` (docs/workflows.md).

stacks: the customer stacks (every stack file but the examples) as one line
`customer=<JSON list of {stack, region, partition}>`, for `$GITHUB_OUTPUT`.

plans --out DIR: this checkout's plans and review documents of every stack file (the pull
request's, run by its own code). Prints one line per stack; exit 1 when a stack's preview failed
(its error is in `DIR/failed/`).

verdict --head-dir DIR --plans DIR --out DIR: the IAM review of those plans, by this checkout's
code, against this checkout (the base branch's): `--head-dir` is the pull request's tree, read
for its stack file names only. Writes summary.md and comment.md (and the base plans and diffs
they come from) into `--out`; prints one line per stack; writes `widening=true|false` to
`$GITHUB_OUTPUT` when that is set.

build --base-dir DIR --out DIR: plans and verdict together, both by this checkout's code, against
a checkout of the base branch in `--base-dir` (`make review`, to see a review locally).

Exit codes of verdict and build: 0 reviewed (widening or not: the workflow's gate decides), 1 a
stack's plan or diff failed (the summary still names it). All: 2 a stack file the workflows
cannot use.

preview-comment --stack S --outcome O --output FILE: the pull request comment of one stack's
`pulumi preview` (its output in FILE), without the marker line the comment job puts above it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ci_review.build import (
    STATUS_TEXT,
    Review,
    Runner,
    build_plans,
    build_review,
    judge_plans,
    run_command,
    write_review,
)
from ci_review.preview_comment import OUTCOMES, preview_comment
from ci_review.stacks import STACK_NAME, StackListError, customer_matrix

PROJECT_DIR = Path(__file__).resolve().parent.parent

EXIT_FAILED = 1
EXIT_BAD_STACK_FILE = 2


def _stack_name(value: str) -> str:
    if not STACK_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"not a stack name Pulumi accepts: {value!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ci_review", description="The stack lists and IAM review CI posts."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stacks", help="the customer stacks, as a job matrix")
    plans = commands.add_parser("plans", help="this checkout's plans (the pull request's)")
    plans.add_argument("--out", type=Path, required=True, help="where the plans are written")
    verdict = commands.add_parser("verdict", help="the IAM review of the pull request's plans")
    verdict.add_argument(
        "--head-dir", type=Path, required=True, help="the pull request's tree (its stack files)"
    )
    verdict.add_argument("--plans", type=Path, required=True, help="what `plans` wrote")
    verdict.add_argument("--out", type=Path, required=True, help="where the review is written")
    build = commands.add_parser("build", help="plans and verdict, both by this checkout's code")
    build.add_argument("--base-dir", type=Path, required=True, help="a checkout of the base")
    build.add_argument("--out", type=Path, required=True, help="where the review is written")
    comment = commands.add_parser("preview-comment", help="a stack's `pulumi preview` comment")
    comment.add_argument("--stack", type=_stack_name, required=True)
    comment.add_argument("--outcome", choices=sorted(OUTCOMES), required=True)
    comment.add_argument("--output", type=Path, required=True, help="the preview's output")
    return parser


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_BAD_STACK_FILE


def _report(review: Review, out: Path) -> int:
    write_review(review, out)
    for stack in review.stacks:
        print(f"{stack.stack}: {STATUS_TEXT[stack.status].replace('**', '')}")
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with open(github_output, "a", encoding="utf-8") as output:
            output.write(f"widening={'true' if review.needs_approval else 'false'}\n")
    return EXIT_FAILED if review.failed else 0


def main(argv: list[str] | None = None, root: Path = PROJECT_DIR, run: Runner = run_command) -> int:
    """The command line; `root` is this checkout and `run` runs the previews (tests)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "stacks":
            matrix = customer_matrix(root)
            print(f"customer={json.dumps(matrix, separators=(',', ':'))}")
            return 0
        if args.command == "preview-comment":
            output = args.output.read_text(encoding="utf-8", errors="replace")
            print(preview_comment(args.stack, args.outcome, output), end="")
            return 0
        if args.command == "plans":
            plans = build_plans(root, args.out, run)
            for plan in plans:
                print(f"{plan.stack}: {'failed' if plan.problem else 'planned'}")
            return EXIT_FAILED if any(plan.problem for plan in plans) else 0
        if args.command == "verdict":
            review = judge_plans(args.head_dir, args.plans, root, args.out, root, run)
        else:
            review = build_review(root, args.base_dir, args.out, run)
    except StackListError as error:
        return _fail(error.problems)
    return _report(review, args.out)


if __name__ == "__main__":
    sys.exit(main())
