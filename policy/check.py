"""`python -m policy.check PLAN.json`: the pack's rules on a JSON plan, offline.

PLAN.json is `python -m offline_preview --format json` (or `pulumi preview --json`); `-` reads
it from stdin. One line per violation on stdout, `<rule>  <urn>  <message>`, sorted; a summary
on stderr. Exit codes: 0 no violation; 1 a violation (every rule is mandatory); 2 the file is
not a plan (one line on stderr).

A value the plan cannot show (a secret, or a preview's unknown) fails the rule that needs it:
the offline plan is fully known by construction (the mocks answer every output), so a hidden
value there is a gap, not a pass. The pack instead skips it during `pulumi preview` and judges
it at `pulumi up`, when the engine knows it (see `__main__.py`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from policy.model import Finding, evaluate_stack
from policy.plan import PlanError, resources
from policy.rules import RULES

EXIT_VIOLATIONS = 1
EXIT_NOT_A_PLAN = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m policy.check",
        description="Check a JSON plan against the Poolside policy pack's rules.",
    )
    parser.add_argument("plan", help="the plan (`--format json`), or - for stdin")
    return parser


def _read(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanError(f"cannot read the plan: {error}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(f"not JSON: {error}") from None


def line(finding: Finding) -> str:
    return f"{finding.rule}  {finding.urn}  {finding.message}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        planned = resources(_read(args.plan))
    except PlanError as error:
        print(f"{args.plan}: {error}", file=sys.stderr)
        return EXIT_NOT_A_PLAN
    findings = evaluate_stack(RULES, planned)
    for finding in findings:
        print(line(finding))
    count = len(findings)
    verdict = f"{count} violation{'s' * (count != 1)}" if findings else "no violations"
    print(f"{len(RULES)} rules on {len(planned)} resources: {verdict}", file=sys.stderr)
    return EXIT_VIOLATIONS if findings else 0


if __name__ == "__main__":
    sys.exit(main())
