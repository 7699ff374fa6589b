"""`python -m offline_preview --stack dev [--format text|json|urns|markdown] [--account-id N]
[--config-file PATH]`.

Runs the real program under the mock engine and prints the plan. Exit codes: 0 planned,
2 invalid stack configuration (one line per problem on stderr, nothing on stdout).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

from aws_environment import DNS_SUFFIXES, AwsEnvironment, partition_of_region
from offline_preview.engine import PROJECT_DIR, Recording, close_event_loop, run_program
from offline_preview.mocks import PoolsideMocks
from offline_preview.render import to_preview_json, to_text, to_urns
from offline_preview.review import to_markdown
from offline_preview.stack_file import StackFileError, load_stack_file
from stack_config import (
    NAMESPACE,
    StackConfigError,
    aws_key_problems,
    parse_stack_config,
    region_problem,
)
from stack_config.environment import region_problems_beside

DEFAULT_ACCOUNT_ID = "123456789012"

EXIT_INVALID_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m offline_preview",
        description="Preview the Poolside program offline: the real program under Pulumi's mocks.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="read Pulumi.<STACK>.yaml (default: dev)")
    source.add_argument("--config-file", type=Path, help="read this stack file instead")
    parser.add_argument(
        "--format",
        choices=("text", "json", "urns", "markdown"),
        default="text",
        help=(
            "text (default); json, shaped like `pulumi preview --json`; urns, one per line; "
            "markdown, the IAM review document (docs/iam/<stack>.md)"
        ),
    )
    parser.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        help="AWS account id the ARNs show (default: the documentation account 123456789012)",
    )
    return parser


def record_stack_file(config: dict[str, str], stack_name: str, account_id: str) -> Recording:
    """The plan of a stack file's config (`load_stack_file`), in the account given."""
    region = config["aws:region"]
    partition = partition_of_region(region)
    env = AwsEnvironment(partition, region, account_id, DNS_SUFFIXES[partition])
    return run_program(config, PoolsideMocks(env), stack=stack_name)


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_INVALID_CONFIG


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stack_path: Path = args.config_file or PROJECT_DIR / f"Pulumi.{args.stack}.yaml"
    stack_name = args.stack if args.config_file is None else stack_path.stem.removeprefix("Pulumi.")
    try:
        config = load_stack_file(stack_path)
    except StackFileError as error:
        return _fail(error.problems)

    problems = aws_key_problems(config, region_required=True)
    region = config.get("aws:region", "")
    if not re.fullmatch(r"\d{12}", args.account_id):
        problems.append(f"--account-id: must be 12 digits (got {json.dumps(args.account_id)})")
    prefix = NAMESPACE + ":"
    raw = {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}
    try:
        parse_stack_config(raw)
    except StackConfigError as error:
        problems.extend(error.problems)
        if region_problem(region) is None:  # the partition and region rules, beside the rest
            partition = partition_of_region(region)
            problems += region_problems_beside(raw, partition=partition, region=region)
    if problems:
        return _fail(problems)

    try:
        recording = record_stack_file(config, stack_name, args.account_id)
    except StackConfigError as error:  # the rules that need the account or an existing cluster
        return _fail(error.problems)
    if args.format == "json":
        # Sorted keys: the engine hands inputs over in no fixed order; a plan must diff cleanly.
        json.dump(to_preview_json(recording), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.format == "urns":
        print(to_urns(recording))
    elif args.format == "markdown":
        sys.stdout.write(to_markdown(recording))
    else:
        print(to_text(recording))
    return 0


if __name__ == "__main__":
    # The SDKs' own deprecation notices are theirs to fix; the project's warnings still show.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi(_\w+)?(\.|$)")
    try:
        code = main()
    finally:
        close_event_loop()  # once, at exit: in-process runs (the tests) reuse the loop
    sys.exit(code)
