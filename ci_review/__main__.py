"""`python -m ci_review stacks | build --base-dir DIR --out DIR` (docs/workflows.md).

stacks: the customer stacks (every stack file but the examples) as one line
`customer=<JSON list of {stack, region, partition}>`, for `$GITHUB_OUTPUT`.

build: the pull request's IAM review into `--out` (summary.md, comment.md and the plans, review
documents and diffs they come from). Prints one line per stack; writes `widening=true|false` to
`$GITHUB_OUTPUT` when that is set. Exit codes: 0 reviewed (widening or not: the workflow's gate
decides), 1 a stack's plan or diff failed (the summary still names it), 2 a stack file the
workflows cannot use.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ci_review.build import STATUS_TEXT, Runner, build_review, run_command, write_review
from ci_review.stacks import StackListError, customer_matrix

PROJECT_DIR = Path(__file__).resolve().parent.parent

EXIT_FAILED = 1
EXIT_BAD_STACK_FILE = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ci_review", description="The stack lists and IAM review CI posts."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("stacks", help="the customer stacks, as a job matrix")
    build = commands.add_parser("build", help="the pull request's IAM review")
    build.add_argument("--base-dir", type=Path, required=True, help="a checkout of the base")
    build.add_argument("--out", type=Path, required=True, help="where the review is written")
    return parser


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_BAD_STACK_FILE


def main(argv: list[str] | None = None, root: Path = PROJECT_DIR, run: Runner = run_command) -> int:
    """The command line; `root` is the project checkout and `run` runs the previews (tests)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "stacks":
            matrix = customer_matrix(root)
            print(f"customer={json.dumps(matrix, separators=(',', ':'))}")
            return 0
        review = build_review(root, args.base_dir, args.out, run)
    except StackListError as error:
        return _fail(error.problems)
    write_review(review, args.out)
    for stack in review.stacks:
        print(f"{stack.stack}: {STATUS_TEXT[stack.status].replace('**', '')}")
    github_output = os.environ.get("GITHUB_OUTPUT")
    if github_output:
        with open(github_output, "a", encoding="utf-8") as output:
            output.write(f"widening={'true' if review.needs_approval else 'false'}\n")
    return EXIT_FAILED if review.failed else 0


if __name__ == "__main__":
    sys.exit(main())
