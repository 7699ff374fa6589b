"""The stack lists the workflows' matrices read: examples apart, customer stacks with region and
partition, and no stack name a job input or environment name should not carry."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from ci_review.__main__ import main
from ci_review.stacks import (
    EXAMPLE_STACKS,
    StackListError,
    customer_matrix,
    find_stacks,
    stack_names,
)
from tests.support.workflows import PROJECT_ROOT


def _stack_file(root: Path, name: str, region: str | None) -> None:
    config = f"config:\n  aws:region: {region}\n" if region else "config:\n  poolside:x: 1\n"
    (root / f"Pulumi.{name}.yaml").write_text(config)


def test_the_repositorys_stack_files_are_the_three_examples() -> None:
    assert sorted(EXAMPLE_STACKS) == ["china", "dev", "govcloud"]
    assert [(s.name, s.partition) for s in find_stacks(PROJECT_ROOT)] == [
        ("china", "aws-cn"),
        ("dev", "aws"),
        ("govcloud", "aws-us-gov"),
    ]
    assert customer_matrix(PROJECT_ROOT) == []


def test_customer_stacks_carry_their_region_and_partition(tmp_path: Path) -> None:
    _stack_file(tmp_path, "dev", "us-east-1")
    _stack_file(tmp_path, "acme-prod", "eu-west-1")
    _stack_file(tmp_path, "acme.gov", "us-gov-east-1")
    _stack_file(tmp_path, "acme_cn", "cn-northwest-1")
    (tmp_path / "Pulumi.yaml").write_text("name: poolside\n")  # the project file is no stack
    assert customer_matrix(tmp_path) == [
        {"stack": "acme-prod", "region": "eu-west-1", "partition": "aws"},
        {"stack": "acme.gov", "region": "us-gov-east-1", "partition": "aws-us-gov"},
        {"stack": "acme_cn", "region": "cn-northwest-1", "partition": "aws-cn"},
    ]


@pytest.mark.parametrize("name", ["a b", "acme$(id)", "-acme", 'acme"', "acme`x`"])
def test_a_stack_name_pulumi_refuses_is_refused_before_it_reaches_a_job(
    tmp_path: Path, name: str
) -> None:
    _stack_file(tmp_path, name, "us-east-1")
    with pytest.raises(StackListError) as raised:
        stack_names(tmp_path)
    assert raised.value.problems == [
        f"Pulumi.{name}.yaml: not a stack name Pulumi accepts "
        "(letters, digits, `_`, `.` and `-`, starting with a letter or digit)"
    ]


def test_a_stack_file_without_a_region_is_named(tmp_path: Path) -> None:
    _stack_file(tmp_path, "acme", None)
    (tmp_path / "Pulumi.broken.yaml").write_text("config: [unclosed\n")
    with pytest.raises(StackListError) as raised:
        find_stacks(tmp_path)
    assert raised.value.problems == [
        "Pulumi.acme.yaml: no `aws:region` under `config:` "
        "(`python -m offline_preview --stack acme` names any other problem)",
        "Pulumi.broken.yaml: no `aws:region` under `config:` "
        "(`python -m offline_preview --stack broken` names any other problem)",
    ]


def _run(argv: list[str], root: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv, root=root)
    return code, out.getvalue(), err.getvalue()


def test_stacks_prints_one_github_output_line(tmp_path: Path) -> None:
    _stack_file(tmp_path, "china", "cn-north-1")
    _stack_file(tmp_path, "acme", "us-west-2")
    assert _run(["stacks"], tmp_path) == (
        0,
        'customer=[{"stack":"acme","region":"us-west-2","partition":"aws"}]\n',
        "",
    )
    assert _run(["stacks"], PROJECT_ROOT) == (0, "customer=[]\n", "")


def test_stacks_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    _stack_file(tmp_path, "bad name", "us-west-2")
    code, out, err = _run(["stacks"], tmp_path)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "Pulumi.bad name.yaml: not a stack name Pulumi accepts "
        "(letters, digits, `_`, `.` and `-`, starting with a letter or digit)"
    ]
