"""The workflows' hardening, asserted on their structure: this fails on a regression even where
zizmor's audits (make lint-workflows) change or miss it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci_review.build import COMMENT_MARKER
from tests.support import workflows
from tests.support.workflows import (
    PROJECT_ROOT,
    jobs,
    load_workflow,
    step,
    steps,
    triggers,
    workflow_paths,
)

WORKFLOWS = ("ci.yml", "deploy.yml", "pulumi-preview.yml")

# Least privilege, job by job: a new job, or a new permission, is a decision this table records.
PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("ci.yml", "test"): {"contents": "read"},
    ("ci.yml", "plans"): {"contents": "read"},
    ("ci.yml", "review"): {"contents": "read"},
    ("ci.yml", "comment"): {"pull-requests": "write"},
    ("ci.yml", "widening-approval"): {},
    ("ci.yml", "iam-gate"): {},
    ("pulumi-preview.yml", "stacks"): {"contents": "read"},
    # the job that runs the pull request's program holds no pull-requests permission
    ("pulumi-preview.yml", "preview"): {"contents": "read", "id-token": "write"},
    ("pulumi-preview.yml", "comment"): {"pull-requests": "write"},
    ("deploy.yml", "stacks"): {"contents": "read"},
    ("deploy.yml", "up"): {"contents": "read", "id-token": "write"},
}

PINNED_USES = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+)@(?P<sha>[0-9a-f]{40})"
    r" # (?P<version>v\d+\.\d+\.\d+)$"
)


def _uses_lines() -> list[tuple[str, str]]:
    return [
        (path.name, line)
        for path in workflow_paths()
        for line in path.read_text().splitlines()
        if re.match(r"^\s*(?:- )?uses:", line)
    ]


def test_the_workflows_are_these_three() -> None:
    assert tuple(path.name for path in workflow_paths()) == WORKFLOWS


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_release_beside_it() -> None:
    lines = _uses_lines()
    bad = [f"{name}: {line.strip()}" for name, line in lines if not PINNED_USES.match(line)]
    assert bad == []
    # every parsed `uses:` is one of the lines checked above (none hides in a flow mapping)
    assert len(lines) == sum(1 for s in steps() if s.uses) == 26


def test_each_action_has_one_pin_across_the_workflows() -> None:
    pins: dict[str, set[tuple[str, str]]] = {}
    for _, line in _uses_lines():
        match = PINNED_USES.match(line)
        assert match is not None, line
        pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
    assert {action: len(found) for action, found in pins.items()} == {
        "actions/checkout": 1,
        "actions/setup-python": 1,
        "actions/upload-artifact": 1,
        "actions/download-artifact": 1,
        "aws-actions/configure-aws-credentials": 1,
        "pulumi/actions": 1,
    }


def test_no_job_calls_a_reusable_workflow() -> None:
    """A job-level `uses:` would run another repository's workflow with this one's token."""
    assert [f"{w} {j}" for w, j, job in jobs() if "uses" in job] == []


def test_top_level_permissions_are_empty_and_every_job_states_its_own() -> None:
    for path in workflow_paths():
        assert load_workflow(path.name)["permissions"] == {}, path.name
    stated = {(workflow, job_id): job.get("permissions") for workflow, job_id, job in jobs()}
    assert stated == PERMISSIONS


def test_no_run_script_expands_an_expression() -> None:
    """Every value reaches a script through `env:`, never as text spliced into the script."""
    scripts = [s for s in steps() if "run" in s.data]
    assert len(scripts) >= 10
    assert [s.where for s in scripts if "${{" in s.data["run"]] == []


def test_triggers_are_pull_request_push_and_dispatch_only() -> None:
    """No pull_request_target or workflow_run: no fork's code ever runs with a write token."""
    found = {path.name: set(triggers(load_workflow(path.name))) for path in workflow_paths()}
    assert found == {
        "ci.yml": {"pull_request", "push"},
        "pulumi-preview.yml": {"pull_request"},
        "deploy.yml": {"push", "workflow_dispatch"},
    }
    for path in workflow_paths():
        assert "pull_request_target" not in path.read_text(), path.name


def test_every_checkout_keeps_no_credentials() -> None:
    checkouts = [s for s in steps() if s.action == "actions/checkout"]
    assert len(checkouts) == 9
    assert [
        s.where for s in checkouts if s.data.get("with", {}).get("persist-credentials") is not False
    ] == []


def test_every_workflow_has_a_concurrency_group_and_deploys_are_never_cancelled() -> None:
    for path in workflow_paths():
        assert "group" in load_workflow(path.name)["concurrency"], path.name
    deploy = load_workflow("deploy.yml")
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert deploy["jobs"]["up"]["concurrency"] == {
        "group": "pulumi-up-${{ matrix.stack }}",
        "cancel-in-progress": False,
    }


def test_python_is_set_up_at_3_11_wherever_it_runs() -> None:
    setups = [s for s in steps() if s.action == "actions/setup-python"]
    assert len(setups) == 7
    assert {s.data["with"]["python-version"] for s in setups} == {"3.11"}
    # Only the jobs that run nothing but the pull request's code, with no credentials, restore a
    # cache: a job that holds cloud credentials or judges with the base's code restores none a
    # pull request's run could have written.
    assert {(s.workflow, s.job) for s in setups if "cache" in s.data["with"]} == {
        ("ci.yml", "test"),
        ("ci.yml", "plans"),
    }


def _requirement(name: str) -> str:
    for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{name}=="):
            return line.split("==", 1)[1]
    raise AssertionError(f"{name} is not pinned in requirements.txt")


def test_pulumi_runs_the_cli_of_the_pinned_sdk_with_the_policy_pack() -> None:
    pulumi_steps = [s for s in steps() if s.action == "pulumi/actions"]
    assert [(s.workflow, s.data["with"]["command"]) for s in pulumi_steps] == [
        ("deploy.yml", "up"),
        ("pulumi-preview.yml", "preview"),
    ]
    for s in pulumi_steps:
        assert s.data["with"]["pulumi-version"] == _requirement("pulumi"), s.where
        assert s.data["with"]["stack-name"] == "${{ matrix.stack }}", s.where
        assert not {"comment-on-pr", "github-token"} & set(s.data["with"]), s.where
    deploy, preview = (s.data["with"] for s in pulumi_steps)
    # `up` runs main's own pack; a preview runs the base branch's, not the pull request's
    assert (deploy["policyPacks"], "work-dir" in deploy) == ("policy", False)
    assert (preview["policyPacks"], preview["work-dir"]) == (
        "${{ github.workspace }}/base/policy",
        "head",
    )


def _run_scripts(workflow: str, job: str) -> list[str]:
    return [
        s.data["run"] for s in steps() if (s.workflow, s.job) == (workflow, job) and "run" in s.data
    ]


def test_the_preview_builds_the_base_branchs_pack_before_any_code_of_the_pull_request() -> None:
    preview = load_workflow("pulumi-preview.yml")["jobs"]["preview"]["steps"]
    labels = [s.get("name") or s.get("id") or s["uses"].split("@")[0] for s in preview]
    assert labels[:5] == [
        "actions/setup-python",
        "Check out the base branch (its policy pack)",
        "The base branch's policy pack and its venv, before any code of the pull request runs",
        "Check out the pull request",
        "The program's venv (Pulumi.yaml names ./venv; the pack is the base's)",
    ]
    assert preview[1]["with"] == {
        "ref": "${{ github.event.pull_request.base.sha }}",
        "path": "base",
        "persist-credentials": False,
    }
    assert preview[2]["run"] == "make -C base policy/venv/.installed"
    assert preview[3]["with"] == {"path": "head", "persist-credentials": False}
    assert preview[4]["run"] == "make -C head venv/.runtime-installed"


def test_the_preview_holds_preview_scoped_backend_secrets_never_deploys() -> None:
    preview = step("pulumi-preview.yml", "preview", "preview")
    assert preview["env"] == {
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_PREVIEW_ACCESS_TOKEN }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_PREVIEW_CONFIG_PASSPHRASE }}",
    }
    [up] = [s.data for s in steps() if s.workflow == "deploy.yml" and s.action == "pulumi/actions"]
    assert up["env"] == {
        "PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        "PULUMI_CONFIG_PASSPHRASE": "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
    }
    # every secret a pull request's run can name is a preview one
    for path in workflow_paths():
        if "pull_request" in triggers(load_workflow(path.name)):
            named = set(re.findall(r"secrets\.(\w+)", path.read_text()))
            assert {name for name in named if "PREVIEW" not in name} == set(), path.name


def test_a_job_that_may_write_to_the_pull_request_runs_none_of_its_code() -> None:
    """No checkout, no make, no venv: it downloads what another job wrote and posts it."""
    writers = [
        (workflow, job_id, job)
        for workflow, job_id, job in jobs()
        if (job.get("permissions") or {}).get("pull-requests") == "write"
    ]
    assert [(workflow, job_id) for workflow, job_id, _ in writers] == [
        ("ci.yml", "comment"),
        ("pulumi-preview.yml", "comment"),
    ]
    for workflow, job_id, job in writers:
        assert [s.get("uses", "").split("@")[0] for s in job["steps"]] == [
            "actions/download-artifact",
            "",
        ], (workflow, job_id)
        [script] = _run_scripts(workflow, job_id)
        assert not re.search(r"\bmake\b|venv|python|\./", script), (workflow, job_id)
        assert job["continue-on-error"] is True
        assert "working-directory" not in job["steps"][1]


def test_aws_credentials_come_from_oidc_roles_only() -> None:
    aws_steps = [s for s in steps() if s.action == "aws-actions/configure-aws-credentials"]
    assert len(aws_steps) == 2
    for s in aws_steps:
        inputs: dict[str, Any] = s.data["with"]
        assert "role-to-assume" in inputs, s.where
        assert not {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"} & set(inputs)
        assert PERMISSIONS[(s.workflow, s.job)]["id-token"] == "write"
    for path in workflow_paths():
        assert "AWS_SECRET_ACCESS_KEY" not in path.read_text(), path.name


def test_the_cloud_jobs_are_switched_on_by_repository_variables() -> None:
    preview = load_workflow("pulumi-preview.yml")["jobs"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["stacks"]["if"]
    # a fork's pull request gets no OIDC token and no secrets
    assert (
        "github.event.pull_request.head.repo.full_name == github.repository"
        in (preview["stacks"]["if"])
    )
    assert preview["preview"]["needs"] == "stacks"
    assert preview["preview"]["environment"] == {"name": "pulumi-preview", "deployment": False}

    deploy = load_workflow("deploy.yml")
    assert triggers(deploy)["push"]["branches"] == ["main"]
    assert deploy["jobs"]["stacks"]["if"] == (
        "${{ vars.PULUMI_UP_ENABLED == 'true' && github.ref == 'refs/heads/main' }}"
    )
    up = deploy["jobs"]["up"]
    assert up["needs"] == "stacks"
    # one environment per stack: its required reviewers, its deploy role, its secrets
    assert up["environment"] == {"name": "pulumi-up-${{ matrix.stack }}"}
    assert up["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.stacks.outputs.customer) }}"}


def test_the_iam_comment_is_skipped_for_forks_and_posts_the_reviews_own_artifact() -> None:
    comment = load_workflow("ci.yml")["jobs"]["comment"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in comment["if"]
    assert "needs.review.outputs.artifact-id != ''" in comment["if"]
    # by the id the review job's upload gave, not by a name another job could have used first
    assert comment["steps"][0]["with"] == {
        "artifact-ids": "${{ needs.review.outputs.artifact-id }}",
        "path": "iam-review",
    }
    assert COMMENT_MARKER in step("ci.yml", "comment", "sticky-comment")["run"]


def test_the_preview_comments_come_from_the_matrix_artifacts() -> None:
    comment = load_workflow("pulumi-preview.yml")["jobs"]["comment"]
    assert comment["needs"] == "preview"
    assert comment["steps"][0]["with"] == {
        "pattern": "pulumi-preview-*",
        "merge-multiple": True,
        "path": "pulumi-preview",
    }
    upload = load_workflow("pulumi-preview.yml")["jobs"]["preview"]["steps"][-1]
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "pulumi-preview-${{ matrix.stack }}"


def test_a_widening_waits_for_the_iam_widening_environment_and_the_gate_reads_the_outcome() -> None:
    ci = load_workflow("ci.yml")["jobs"]
    approval = ci["widening-approval"]
    assert approval["needs"] == "review"
    assert approval["if"] == "needs.review.outputs.widening == 'true'"
    assert approval["environment"] == {"name": "iam-widening", "deployment": False}
    assert ci["review"]["outputs"] == {
        "widening": "${{ steps.review.outputs.widening }}",
        "artifact-id": "${{ steps.upload.outputs.artifact-id }}",
    }

    gate = ci["iam-gate"]
    assert gate["needs"] == ["plans", "review", "widening-approval"]
    assert gate["if"] == "${{ always() && github.event_name == 'pull_request' }}"
    assert gate["steps"][0]["env"] == {
        "PLANS": "${{ needs.plans.result }}",
        "REVIEW": "${{ needs.review.result }}",
        "WIDENING": "${{ needs.review.outputs.widening }}",
        "APPROVAL": "${{ needs.widening-approval.result }}",
    }


def test_the_plans_are_the_pull_requests_code_and_cross_over_as_an_artifact() -> None:
    plans = load_workflow("ci.yml")["jobs"]["plans"]
    assert plans["outputs"] == {"artifact-id": "${{ steps.upload.outputs.artifact-id }}"}
    assert _run_scripts("ci.yml", "plans") == [
        'make review-plans REVIEW_DIR="$GITHUB_WORKSPACE/iam-plans"'
    ]
    upload = step("ci.yml", "plans", "upload")
    assert upload["with"]["name"] == "iam-plans" and upload["with"]["path"] == "iam-plans/"


def test_the_verdict_runs_the_base_branchs_code_on_the_pull_requests_files_as_data() -> None:
    review = load_workflow("ci.yml")["jobs"]["review"]
    assert review["needs"] == "plans"
    assert review["if"] == "${{ !cancelled() && needs.plans.outputs.artifact-id != '' }}"
    checkouts = [
        s["with"] for s in review["steps"] if s.get("uses", "").startswith("actions/checkout@")
    ]
    assert checkouts == [
        {
            "ref": "${{ github.event.pull_request.base.sha }}",
            "path": "base",
            "persist-credentials": False,
        },
        # the pull request's stack files alone: their names say which stacks it has
        {
            "path": "head",
            "sparse-checkout": "/Pulumi.*.yaml",
            "sparse-checkout-cone-mode": False,
            "persist-credentials": False,
        },
    ]
    download = review["steps"][2]
    assert download["with"] == {
        "artifact-ids": "${{ needs.plans.outputs.artifact-id }}",
        "path": "iam-plans",
    }
    verdict = step("ci.yml", "review", "review")
    assert verdict["working-directory"] == "base"
    script = verdict["run"]
    assert script.splitlines()[1] == "make venv/.runtime-installed"
    assert script.rstrip().endswith(
        'venv/bin/python -m ci_review verdict --head-dir "$GITHUB_WORKSPACE/head" \\\n'
        '  --plans "$GITHUB_WORKSPACE/iam-plans" --out "$review"'
    )
    # nothing of the pull request runs: no make in head/, no module of it imported
    for script in _run_scripts("ci.yml", "review"):
        assert "head/" not in script.replace('"$GITHUB_WORKSPACE/head"', "")
        assert "PYTHONPATH" not in script


def test_a_key_given_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub refuses a workflow with a repeated key; so does the loader these tests read with."""
    (tmp_path / "twice.yml").write_text("with:\n  cache: pip\n  cache: npm\n")
    monkeypatch.setattr(workflows, "WORKFLOW_DIR", tmp_path)
    with pytest.raises(yaml.constructor.ConstructorError, match="key given twice: cache"):
        workflows.load_workflow("twice.yml")
