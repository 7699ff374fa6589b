"""`python -m offline_preview --stack dev [--format text|json|urns] [--account-id N]
[--config-file PATH]`, and `python -m offline_preview diff BASE.json HEAD.json
[--fail-on-widening]`.

Runs the real program under the mock engine and prints the plan. Exit codes: 0 planned,
2 invalid stack configuration (one line per problem on stderr, nothing on stdout). `diff`
compares the IAM of two JSON plans (`offline_preview/diff.py`, with its own exit codes).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path

from aws_environment import DNS_SUFFIXES, AwsEnvironment, partition_of_region
from offline_preview import diff
from offline_preview.engine import PROJECT_DIR, close_event_loop, run_program
from offline_preview.mocks import PoolsideMocks
from offline_preview.render import existing_key_policy, to_preview_json, to_text, to_urns
from offline_preview.stack_file import StackFileError, load_stack_file
from stack_config import (
    NAMESPACE,
    StackConfig,
    StackConfigError,
    aws_key_problems,
    key_path,
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
        epilog="`python -m offline_preview diff BASE.json HEAD.json [--fail-on-widening]` "
        "compares the IAM of two `--format json` plans.",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", default="dev", help="read Pulumi.<STACK>.yaml (default: dev)")
    source.add_argument("--config-file", type=Path, help="read this stack file instead")
    parser.add_argument(
        "--format",
        choices=("text", "json", "urns"),
        default="text",
        help="text (default); json, shaped like `pulumi preview --json`; urns, one per line",
    )
    parser.add_argument(
        "--account-id",
        default=DEFAULT_ACCOUNT_ID,
        help="AWS account id the ARNs show (default: the documentation account 123456789012)",
    )
    return parser


def _fail(problems: list[str]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_INVALID_CONFIG


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["diff"]:  # a subcommand only by its first word: every plan flag stays as it was
        return diff.main(argv[1:])
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
    stack_config: StackConfig | None = None
    try:
        stack_config = parse_stack_config(raw)
    except StackConfigError as error:
        problems.extend(error.problems)
        if region_problem(region) is None:  # the partition and region rules, beside the rest
            partition = partition_of_region(region)
            problems += region_problems_beside(raw, partition=partition, region=region)
    if problems or stack_config is None:
        return _fail(problems)

    partition = partition_of_region(region)
    env = AwsEnvironment(partition, region, args.account_id, DNS_SUFFIXES[partition])
    try:
        recording = run_program(config, PoolsideMocks(env), stack=stack_name)
    except StackConfigError as error:  # the rules that need the account or an existing cluster
        return _fail(error.problems)
    if args.format == "json":
        # Sorted keys: the engine hands inputs over in no fixed order; a plan must diff cleanly.
        json.dump(to_preview_json(recording), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.format == "urns":
        print(to_urns(recording))
    else:
        key_policies = {
            key_path(loc): (arn, existing_key_policy(recording, env, arn))
            for loc, arn in stack_config.existing_key_arns.items()
        }
        print(to_text(recording, key_policies))
    return 0


if __name__ == "__main__":
    # The SDKs' own deprecation notices are theirs to fix; the project's warnings still show.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi(_\w+)?(\.|$)")
    try:
        code = main()
    finally:
        close_event_loop()  # once, at exit: in-process runs (the tests) reuse the loop
    sys.exit(code)
