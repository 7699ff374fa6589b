"""The workflows' `run:` scripts, run under bash as the runner runs them, with their `env:`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ci_review.build import COMMENT_MARKER
from tests.support.workflows import run_script, step

FAKE_GH = """#!/usr/bin/env bash
# records each call, one argument per line, and answers the comment list with $FAKE_IDS
printf '%s\\n' "$@" >> "$GH_LOG"
printf '%s\\n' '---' >> "$GH_LOG"
if [ "$1" = api ] && [ "$2" = --paginate ]; then printf '%b' "$FAKE_IDS"; fi
"""


def _sticky(tmp_path: Path, ids: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    (tmp_path / "iam-review").mkdir()
    (tmp_path / "iam-review" / "comment.md").write_text(f"{COMMENT_MARKER}\n# IAM review\n")
    sticky = step("ci.yml", "comment", "sticky-comment")
    env = {
        **sticky["env"],
        "GH_TOKEN": "token",
        "REPOSITORY": "acme/poolside-infra",
        "PR_NUMBER": "42",
        "GH_LOG": str(tmp_path / "gh.log"),
        "FAKE_IDS": ids,
    }
    result = run_script(sticky["run"], env, tmp_path, path_prefix=bin_dir)
    calls = [
        [line for line in call.splitlines() if line]
        for call in (tmp_path / "gh.log").read_text().split("---\n")
        if call.strip()
    ]
    return result, calls


def test_the_comment_is_posted_once_then_updated_in_place(tmp_path: Path) -> None:
    result, calls = _sticky(tmp_path / "first", "")
    assert result.returncode == 0, result.stderr
    assert calls[1] == [
        "api",
        "--method",
        "POST",
        "repos/acme/poolside-infra/issues/42/comments",
        "-F",
        "body=@iam-review/comment.md",
    ]

    result, calls = _sticky(tmp_path / "again", "1001\\n1002\\n")
    assert result.returncode == 0, result.stderr
    assert calls[0][:3] == ["api", "--paginate", "repos/acme/poolside-infra/issues/42/comments"]
    assert calls[1] == [
        "api",
        "--method",
        "PATCH",
        "repos/acme/poolside-infra/issues/comments/1001",
        "-F",
        "body=@iam-review/comment.md",
    ]
    assert len(calls) == 2


def test_the_comment_lookup_finds_only_the_bots_review_comment(tmp_path: Path) -> None:
    """The `--jq` filter, run by jq over a page of comments: the bot's comment that starts with
    the marker, not a person's quoting it, nor the bot's other comments."""
    _, calls = _sticky(tmp_path, "")
    jq_filter = calls[0][calls[0].index("--jq") + 1]
    page = [
        {"id": 1, "user": {"login": "octocat"}, "body": f"{COMMENT_MARKER}\nquoted"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "#### pulumi preview"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": f"{COMMENT_MARKER}\n# IAM"},
    ]
    jq = shutil.which("jq")
    assert jq is not None, "jq (Debian's package; on every GitHub runner) runs the filter"
    found = subprocess.run(
        [jq, "-r", jq_filter], input=json.dumps(page), capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["3"]


def _role(tmp_path: Path, partition: str, **roles: str) -> subprocess.CompletedProcess[str]:
    choose = step("pulumi-preview.yml", "preview", "role")
    env = {
        "STACK": "acme",
        "PARTITION": partition,
        "ROLE_AWS": "",
        "ROLE_AWS_US_GOV": "",
        "ROLE_AWS_CN": "",
        **roles,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    assert set(choose["env"]) == set(env) - {"GITHUB_OUTPUT"}
    (tmp_path / "output").write_text("")
    return run_script(choose["run"], env, tmp_path)


@pytest.mark.parametrize(
    ("partition", "variable"),
    [("aws", "ROLE_AWS"), ("aws-us-gov", "ROLE_AWS_US_GOV"), ("aws-cn", "ROLE_AWS_CN")],
)
def test_the_preview_assumes_the_role_of_the_stacks_partition(
    tmp_path: Path, partition: str, variable: str
) -> None:
    roles = {
        "ROLE_AWS": "arn:aws:iam::111111111111:role/preview",
        "ROLE_AWS_US_GOV": "arn:aws-us-gov:iam::222222222222:role/preview",
        "ROLE_AWS_CN": "arn:aws-cn:iam::333333333333:role/preview",
    }
    result = _role(tmp_path, partition, **roles)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "output").read_text() == f"arn={roles[variable]}\n"


def test_a_stack_in_a_partition_without_a_preview_role_names_the_variable(tmp_path: Path) -> None:
    result = _role(tmp_path, "aws-us-gov", ROLE_AWS="arn:aws:iam::111111111111:role/preview")
    assert result.returncode == 1
    assert result.stdout == (
        "::error::Stack acme deploys to aws-us-gov: set the repository variable "
        "AWS_PREVIEW_ROLE_ARN_GOVCLOUD to a preview role there.\n"
    )
    assert (tmp_path / "output").read_text() == ""


@pytest.mark.parametrize(
    ("review", "widening", "approval", "passes"),
    [
        ("success", "false", "skipped", True),
        ("success", "true", "success", True),
        ("success", "true", "failure", False),  # a reviewer rejected it
        ("success", "true", "cancelled", False),
        ("success", "true", "skipped", False),
        ("failure", "", "skipped", False),  # a plan or diff failed
        ("cancelled", "", "skipped", False),
    ],
)
def test_the_gate_passes_only_a_complete_review_with_any_widening_approved(
    tmp_path: Path, review: str, widening: str, approval: str, passes: bool
) -> None:
    gate = step("ci.yml", "iam-gate", "The review ran, and any widening is approved")
    env = {"REVIEW": review, "WIDENING": widening, "APPROVAL": approval}
    assert set(gate["env"]) == set(env)
    result = run_script(gate["run"], env, tmp_path)
    assert (result.returncode == 0) is passes, result.stdout
    assert result.stdout.startswith("::error::") is not passes
