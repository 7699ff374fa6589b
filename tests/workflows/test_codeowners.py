"""`.github/CODEOWNERS`: the paths whose change needs a code owner's review, in the syntax GitHub
accepts (a line it cannot read is skipped, and its paths then need no owner)."""

from __future__ import annotations

import re

from tests.support.workflows import PROJECT_ROOT

CODEOWNERS = PROJECT_ROOT / ".github" / "CODEOWNERS"
PLACEHOLDER = "@OWNER/platform-security"
OWNED = [
    "/.github/",
    "/ci_review/",
    "/offline_preview/",
    "/policy/",
    "/policies/",
    "/Makefile",
    "/tests/workflows/",
    "/tests/ci_review/",
]


def _rules() -> list[list[str]]:
    lines = CODEOWNERS.read_text().splitlines()
    return [line.split() for line in lines if line.strip() and not line.startswith("#")]


def test_the_workflows_review_and_guardrails_need_a_code_owners_review() -> None:
    assert [rule[0] for rule in _rules()] == OWNED
    assert {tuple(rule[1:]) for rule in _rules()} == {(PLACEHOLDER,)}
    # each owned path is there (a typo would own nothing)
    for pattern in OWNED:
        assert (PROJECT_ROOT / pattern.lstrip("/")).exists(), pattern


def test_every_line_is_syntax_github_reads() -> None:
    """A pattern and owners on one line; none of gitignore's syntax CODEOWNERS lacks (`!`, `[ ]`,
    an escaped `#`), no comment after a rule."""
    owner = re.compile(r"@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?")
    for rule in _rules():
        pattern, owners = rule[0], rule[1:]
        assert not re.search(r"[!\[\]\\]", pattern), pattern
        assert owners and all(owner.fullmatch(name) for name in owners), rule


def test_the_placeholder_is_documented_as_one_to_replace() -> None:
    text = CODEOWNERS.read_text()
    assert f"{PLACEHOLDER} is a placeholder" in text
    assert "Require review from Code Owners" in text
    assert "codeowners/errors" in text
