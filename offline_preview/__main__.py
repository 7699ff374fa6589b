"""`python -m offline_preview --stack dev [--format text|json|urns|markdown] [--account-id N]
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
from offline_preview.engine import PROJECT_DIR, Recording, close_event_loop, run_program
from offline_preview.mocks import PoolsideMocks
from offline_preview.render import (
    KeyPolicies,
    existing_key_policy,
    to_preview_json,
    to_text,
    to_urns,
)
from offline_preview.review import to_markdown
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


def poolside_values(config: dict[str, str]) -> dict[str, str]:
    """A stack file's `poolside:` keys, without the namespace: what `parse_stack_config` reads."""
    prefix = NAMESPACE + ":"
    return {k[len(prefix) :]: v for k, v in config.items() if k.startswith(prefix)}


def stack_environment(config: dict[str, str], account_id: str) -> AwsEnvironment:
    """The partition, region and account a stack file's plan is made in."""
    region = config["aws:region"]
    partition = partition_of_region(region)
    return AwsEnvironment(partition, region, account_id, DNS_SUFFIXES[partition])


def record_stack_file(config: dict[str, str], stack_name: str, account_id: str) -> Recording:
    """The plan of a stack file's config (`load_stack_file`), in the account given."""
    env = stack_environment(config, account_id)
    return run_program(config, PoolsideMocks(env), stack=stack_name)


def existing_key_policies(
    stack_config: StackConfig, recording: Recording, env: AwsEnvironment
) -> KeyPolicies:
    """Each existing key by its config key: its ARN, and what its key policy must allow."""
    return {
        key_path(loc): (arn, existing_key_policy(recording, env, arn))
        for loc, arn in stack_config.existing_key_arns.items()
    }


def render(
    format_: str, recording: Recording, stack_config: StackConfig, env: AwsEnvironment
) -> str:
    """What `--format <format_>` prints for a planned stack."""
    if format_ == "json":
        # Sorted keys: the engine hands inputs over in no fixed order; a plan must diff cleanly.
        return json.dumps(to_preview_json(recording), indent=2, sort_keys=True) + "\n"
    if format_ == "urns":
        return to_urns(recording) + "\n"
    key_policies = existing_key_policies(stack_config, recording, env)
    if format_ == "markdown":
        buckets = {key_path(loc): name for loc, name in stack_config.existing_bucket_names.items()}
        return to_markdown(recording, key_policies, buckets)
    return to_text(recording, key_policies) + "\n"


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
    raw = poolside_values(config)
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

    try:
        recording = record_stack_file(config, stack_name, args.account_id)
    except StackConfigError as error:  # the rules that need the account or an existing cluster
        return _fail(error.problems)
    env = stack_environment(config, args.account_id)
    sys.stdout.write(render(args.format, recording, stack_config, env))
    return 0


if __name__ == "__main__":
    # The SDKs' own deprecation notices are theirs to fix; the project's warnings still show.
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi(_\w+)?(\.|$)")
    try:
        code = main()
    finally:
        close_event_loop()  # once, at exit: in-process runs (the tests) reuse the loop
    sys.exit(code)
