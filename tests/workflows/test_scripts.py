"""The workflows' `run:` scripts, run under bash as the runner runs them, with their `env:`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ci_review.build import COMMENT_MARKER
from ci_review.preview_comment import preview_comment
from tests.support.workflows import PROJECT_ROOT, run_script, step

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
    ("plans", "review", "widening", "approval", "passes"),
    [
        ("success", "success", "false", "skipped", True),
        ("success", "success", "true", "success", True),
        ("success", "success", "true", "failure", False),  # a reviewer rejected it
        ("success", "success", "true", "cancelled", False),
        ("success", "success", "true", "skipped", False),
        ("success", "failure", "", "skipped", False),  # a base plan or diff failed
        ("success", "cancelled", "", "skipped", False),
        ("failure", "failure", "", "skipped", False),  # a plan of the pull request failed
        ("failure", "skipped", "", "skipped", False),  # no plans to judge
        ("failure", "success", "false", "skipped", False),
    ],
)
def test_the_gate_passes_only_a_complete_review_with_any_widening_approved(
    tmp_path: Path, plans: str, review: str, widening: str, approval: str, passes: bool
) -> None:
    gate = step("ci.yml", "iam-gate", "The review ran, and any widening is approved")
    env = {"PLANS": plans, "REVIEW": review, "WIDENING": widening, "APPROVAL": approval}
    assert set(gate["env"]) == set(env)
    result = run_script(gate["run"], env, tmp_path)
    assert (result.returncode == 0) is passes, result.stdout
    assert result.stdout.startswith("::error::") is not passes


# -- The verdict: the base checkout's code, or an approval when the base has none ------------

RECORDER = """#!/usr/bin/env bash
# records its arguments, one call a line; exits $FAKE_EXIT for `--help`
printf '%s ' "$0" "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
if [ "${!#}" = --help ]; then exit "${FAKE_EXIT:-0}"; fi
"""


def _verdict(tmp_path: Path, help_exit: int) -> tuple[subprocess.CompletedProcess[str], Path]:
    base = tmp_path / "base"
    (base / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    for fake in (base / "venv" / "bin" / "python", tmp_path / "bin" / "make"):
        fake.write_text(RECORDER)
        fake.chmod(0o755)
    verdict = step("ci.yml", "review", "review")
    env = {
        **verdict["env"],
        "BASE_SHA": "0123abcd",
        "GITHUB_WORKSPACE": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "CALLS": str(tmp_path / "calls"),
        "FAKE_EXIT": str(help_exit),
    }
    assert set(verdict["env"]) == {"BASE_SHA"}
    (tmp_path / "output").write_text("")
    return run_script(verdict["run"], env, base, path_prefix=tmp_path / "bin"), tmp_path


def test_the_verdict_is_the_base_checkouts_own_command(tmp_path: Path) -> None:
    result, workspace = _verdict(tmp_path, help_exit=0)
    assert result.returncode == 0, result.stderr
    calls = (workspace / "calls").read_text().splitlines()
    assert [call.split() for call in calls] == [
        [str(workspace / "bin" / "make"), "venv/.runtime-installed"],
        ["venv/bin/python", "-m", "ci_review", "verdict", "--help"],
        [
            "venv/bin/python",
            "-m",
            "ci_review",
            "verdict",
            "--head-dir",
            f"{workspace}/head",
            "--plans",
            f"{workspace}/iam-plans",
            "--out",
            f"{workspace}/iam-review",
        ],
    ]
    assert (workspace / "output").read_text() == ""  # the verdict command writes it


@pytest.mark.parametrize("help_exit", [2, 1])  # no such command; no ci_review at all
def test_a_base_without_the_verdict_command_fails_closed_asking_for_an_approval(
    tmp_path: Path, help_exit: int
) -> None:
    result, workspace = _verdict(tmp_path, help_exit)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "::warning::The base branch cannot judge IAM yet: an approval is needed.\n"
    )
    assert (workspace / "output").read_text() == "widening=true\n"
    calls = (workspace / "calls").read_text().splitlines()
    assert len(calls) == 2  # make, then --help: nothing else ran
    summary = (workspace / "iam-review" / "summary.md").read_text()
    assert summary == (
        "# IAM review\n\n"
        "The base branch (0123abcd) has no `python -m ci_review verdict`: its code cannot\n"
        "judge this pull request's plans, so IAM counts as widened and needs an approval\n"
        "(the `iam-widening` environment, docs/workflows.md). The `iam-plans` artifact\n"
        "holds the pull request's plans and security review documents.\n"
    )
    comment = (workspace / "iam-review" / "comment.md").read_text()
    assert comment == f"{COMMENT_MARKER}\n{summary}"  # found again by the sticky comment


# -- The preview's comments: written beside the preview, posted by a job that runs none of it --


def test_the_preview_job_writes_the_comment_of_its_stack(tmp_path: Path) -> None:
    head = tmp_path / "head"
    head.mkdir()
    for name in ("venv", "ci_review", "aws_environment.py"):
        (head / name).symlink_to(PROJECT_ROOT / name)
    (tmp_path / "temp").mkdir()
    keep = step("pulumi-preview.yml", "preview", "preview-comment")
    assert keep["working-directory"] == "head"
    assert keep["continue-on-error"] is True  # a missing comment never fails the preview
    output = "Previewing update (acme):\n\nResources:\n    + 2 to create"
    env = {
        "STACK": "acme",
        "OUTCOME": "success",
        "OUTPUT": output,
        "GITHUB_WORKSPACE": str(tmp_path),
        "RUNNER_TEMP": str(tmp_path / "temp"),
    }
    assert set(keep["env"]) == {"STACK", "OUTCOME", "OUTPUT"}
    result = run_script(keep["run"], env, head)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "pulumi-preview" / "acme.md").read_text()
    assert written == preview_comment("acme", "success", output)


FAKE_GH_BODIES = """#!/usr/bin/env bash
# records each call and the body it posts; answers the comment list with $FAKE_IDS
printf '%s\\n' "$@" >> "$GH_LOG"
for arg in "$@"; do
  case $arg in body=@*) cat "${arg#body=@}" >> "$GH_LOG" ;; esac
done
printf '%s\\n' '---' >> "$GH_LOG"
if [ "$1" = api ] && [ "$2" = --paginate ]; then printf '%b' "$FAKE_IDS"; fi
"""


def _preview_comments(
    tmp_path: Path, files: dict[str, str], ids: str
) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    (tmp_path / "bin").mkdir(parents=True)
    gh = tmp_path / "bin" / "gh"
    gh.write_text(FAKE_GH_BODIES)
    gh.chmod(0o755)
    (tmp_path / "pulumi-preview").mkdir()
    (tmp_path / "temp").mkdir()
    for name, text in files.items():
        (tmp_path / "pulumi-preview" / name).write_text(text)
    post = step("pulumi-preview.yml", "comment", "sticky-comments")
    env = {
        **post["env"],
        "GH_TOKEN": "token",
        "REPOSITORY": "acme/poolside-infra",
        "PR_NUMBER": "42",
        "RUNNER_TEMP": str(tmp_path / "temp"),
        "GH_LOG": str(tmp_path / "gh.log"),
        "FAKE_IDS": ids,
    }
    result = run_script(post["run"], env, tmp_path, path_prefix=tmp_path / "bin")
    log = tmp_path / "gh.log"
    text = log.read_text() if log.exists() else ""
    calls = [call.splitlines() for call in text.split("---\n") if call.strip()]
    return result, calls


def test_each_stacks_preview_is_posted_under_a_marker_this_job_writes(tmp_path: Path) -> None:
    files = {
        "acme.md": "### `pulumi preview` of `acme`: succeeded\n",
        "$(touch pwned).md": "<!-- ci_review:iam-review -->\nforged\n",
        "eu.west.md": "### `pulumi preview` of `eu.west`: succeeded\n",
    }
    result, calls = _preview_comments(tmp_path, files, "")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        "::warning::A file that is not a stack's preview was left out.",
        "acme: posted a new comment",
        "eu.west: posted a new comment",
    ]
    assert not (tmp_path / "pwned").exists()
    posts = [call for call in calls if "POST" in call]
    assert posts == [
        [
            "api",
            "--method",
            "POST",
            "repos/acme/poolside-infra/issues/42/comments",
            "-F",
            f"body=@{tmp_path}/temp/comment-{stack}.md",
            f"<!-- pulumi-preview:{stack} -->",
            f"### `pulumi preview` of `{stack}`: succeeded",
        ]
        for stack in ("acme", "eu.west")
    ]


def test_a_stacks_preview_comment_is_updated_in_place(tmp_path: Path) -> None:
    result, calls = _preview_comments(tmp_path, {"acme.md": "again\n"}, "7\\n8\\n")
    assert result.returncode == 0, result.stderr
    assert calls[1] == [
        "api",
        "--method",
        "PATCH",
        "repos/acme/poolside-infra/issues/comments/7",
        "-F",
        f"body=@{tmp_path}/temp/comment-acme.md",
        "<!-- pulumi-preview:acme -->",
        "again",
    ]


def test_a_stacks_lookup_finds_only_its_own_preview_comment(tmp_path: Path) -> None:
    _, calls = _preview_comments(tmp_path, {"acme.md": "x\n"}, "")
    jq_filter = calls[0][calls[0].index("--jq") + 1]
    bot = {"login": "github-actions[bot]"}
    page = [
        {"id": 1, "user": bot, "body": f"{COMMENT_MARKER}\n# IAM review"},
        {"id": 2, "user": bot, "body": "<!-- pulumi-preview:acme2 -->\n"},
        {"id": 3, "user": {"login": "octocat"}, "body": "<!-- pulumi-preview:acme -->\n"},
        {"id": 4, "user": bot, "body": "<!-- pulumi-preview:acme -->\n### preview"},
    ]
    jq = shutil.which("jq")
    assert jq is not None
    found = subprocess.run(
        [jq, "-r", jq_filter], input=json.dumps(page), capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["4"]
