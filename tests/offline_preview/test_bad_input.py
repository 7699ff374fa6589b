"""Bad stack files as a new user writes them: each problem one line on stderr, exit 2, nothing on
stdout, no traceback. Messages are asserted by their whole text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.harness import PROJECT_ROOT
from tests.support.preview import Preview, run_preview


def preview_of(path: Path, *args: str) -> Preview:
    return run_preview("--config-file", str(path), *args)


def refused(path: Path) -> list[str]:
    """The lines of a run that must be refused: exit 2, nothing on stdout, no traceback."""
    result = preview_of(path)
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.lines


# -- file-level errors: one line naming the file ---------------------------------------------


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.latin1.yaml"
    stack.write_bytes("config:\n  poolside:deploymentName: d\xe9mo\n".encode("latin-1"))
    assert refused(stack) == [f"{stack}: is not UTF-8 text (byte 0xe9 on line 2): save it as UTF-8"]


@pytest.mark.parametrize(
    ("text", "got"),
    [
        ("- aws:region: us-east-1\n- poolside:deploymentName: acme\n", "a list"),
        ("config\n", 'the text "config"'),
        ("42\n", "the value 42"),
    ],
)
def test_a_top_level_that_is_not_a_mapping_is_named(tmp_path: Path, text: str, got: str) -> None:
    stack = tmp_path / "Pulumi.list.yaml"
    stack.write_text(text)
    assert refused(stack) == [
        f"{stack}: must be a mapping with a top-level `config:` block of keys (got {got})"
    ]


def test_a_file_that_cannot_be_read_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = tmp_path / "Pulumi.locked.yaml"
    stack.write_text("config:\n  aws:region: us-east-1\n")
    stack.chmod(0)
    try:
        readable = True
        try:
            stack.read_bytes()
        except PermissionError:
            readable = False
        if readable:  # root reads it anyway: the same refusal, as the OS would give it
            original = Path.read_bytes

            def denied(self: Path) -> bytes:
                if self == stack:
                    raise PermissionError(13, "Permission denied", str(self))
                return original(self)

            monkeypatch.setattr(Path, "read_bytes", denied)
        assert refused(stack) == [
            f"{stack}: cannot be read (Permission denied): check its permissions"
        ]
    finally:
        stack.chmod(0o600)


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        (
            "config:\n  aws:region: us-east-1\n   poolside:deploymentName: acme\n",
            "line 3, column 27",
            "mapping values are not allowed here",
        ),
        (
            "config:\n  poolside:ecr: {repositories: [api, web}\n",
            "line 2, column 41",
            "expected ',' or ']', but got '}'",
        ),
        (
            "config:\n\taws:region: us-east-1\n",
            "line 2, column 1",
            "found character '\\t' that cannot start any token",
        ),
    ],
)
def test_yaml_syntax_errors_name_the_file_line_and_column(
    tmp_path: Path, text: str, where: str, problem: str
) -> None:
    stack = tmp_path / "Pulumi.syntax.yaml"
    stack.write_text(text)
    lines = refused(stack)
    assert lines == [f"{stack}, {where}: not valid YAML: {problem}"]
    assert "<unicode string>" not in lines[0]


def test_keys_outside_the_config_block_are_explained(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.flat.yaml"
    stack.write_text("aws:region: us-east-1\npoolside:deploymentName: acme\n")
    assert refused(stack) == [
        f"{stack}: aws:region, poolside:deploymentName are outside the `config:` block: put the "
        "keys under `config:` (indented below it)"
    ]
    stack.write_text("config:\n  aws:region: us-east-1\npoolside:deploymentName: acme\n")
    assert refused(stack) == [
        f"{stack}: poolside:deploymentName is outside the `config:` block: put the keys under "
        "`config:` (indented below it)"
    ]


# -- hints: the provider's keys, the nesting of sections ---------------------------------------

EXISTING_CLUSTER = (
    "  poolside:deploymentName: acme\n"
    "  poolside:cluster: {existingClusterName: acme, privateSubnetIds: [subnet-0123456789abcdef0]}\n"
)


def test_provider_keys_and_flattened_keys_get_hints_all_at_once(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.hints.yaml"
    stack.write_text(
        "config:\n"
        "  aws:regoin: us-east-1\n"
        "  poolside:region: us-east-1\n"
        "  poolside:cluster.vpcId: vpc-0123456789abcdef0\n" + EXISTING_CLUSTER
    )
    assert refused(stack) == [
        "aws:regoin: not a key of the AWS provider; did you mean aws:region?",
        'aws:region: required, an AWS region such as us-east-1 (got "")',
        "poolside:region: unknown key; did you mean aws:region?",
        "poolside:cluster.vpcId: unknown key; sections nest in a stack file: write "
        "`poolside:cluster:` and `vpcId:` indented below it (or `pulumi config set --path "
        "poolside:cluster.vpcId <value>`)",
    ]


def test_an_unknown_provider_key_with_nothing_close_is_to_be_removed(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.unknown.yaml"
    stack.write_text("config:\n  aws:region: us-east-1\n  aws:colour: blue\n" + EXISTING_CLUSTER)
    assert refused(stack) == ["aws:colour: not a key of the AWS provider; remove it"]


# -- values --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "line"),
    [
        ("us-west-9", "must be an AWS region the provider knows, such as us-west-1 or us-west-2"),
        ("us-east-9", "must be an AWS region the provider knows, such as us-east-1 or us-east-2"),
        ("uswest2", "must be an AWS region the provider knows, such as us-west-2"),
        ("moon-1", "must be an AWS region the provider knows, such as us-east-1"),
        (
            "us-iso-east-1",
            "us-iso-east-1 is in a partition this program does not build for "
            "(aws, aws-us-gov, aws-cn)",
        ),
    ],
)
def test_a_region_that_does_not_exist_is_reported_beside_other_problems(
    tmp_path: Path, region: str, line: str
) -> None:
    stack = tmp_path / "Pulumi.region.yaml"
    stack.write_text(
        f"config:\n  aws:region: {region}\n  poolside:deploymentName: Acme\n"
        "  poolside:cluster: {existingClusterName: acme, "
        "privateSubnetIds: [subnet-0123456789abcdef0]}\n"
    )
    assert refused(stack) == [
        f'aws:region: {line} (got "{region}")',
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme")',
    ]


def test_an_unquoted_kubernetes_version_and_tag_are_reported_with_the_region(
    tmp_path: Path,
) -> None:
    stack = tmp_path / "Pulumi.numbers.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: us-east-9\n"
        "  poolside:deploymentName: acme\n"
        "  poolside:tags: {cost-center: 1234}\n"
        "  poolside:cluster:\n"
        "    kubernetesVersion: 1.30\n"
        "    vpcId: vpc-0123456789abcdef0\n"
        "    privateSubnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]\n"
        "    nodeGroups: [{name: system}]\n"
    )
    assert refused(stack) == [
        "aws:region: must be an AWS region the provider knows, such as us-east-1 or us-east-2 "
        '(got "us-east-9")',
        'poolside:tags["cost-center"]: must be text: quote it ("1234"), or set it with '
        "`pulumi config set --path --type string` (got 1234)",
        "poolside:cluster.kubernetesVersion: must be text in quotes, such as kubernetesVersion: "
        '"1.30" (unquoted, YAML reads 1.30 as the number 1.3) (got 1.3)',
    ]


# -- said, but not refused -----------------------------------------------------------------------

CREATED_CLUSTER = (
    "config:\n"
    "  aws:region: us-east-1\n"
    "  poolside:deploymentName: acme\n"
    "  poolside:cluster:\n"
    "    vpcId: vpc-0123456789abcdef0\n"
    "    privateSubnetIds: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]\n"
    "    nodeGroups: [{name: system}]\n"
)


def test_no_bastion_with_a_private_endpoint_is_a_warning_on_stderr(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.nobastion.yaml"
    stack.write_text(CREATED_CLUSTER + "  poolside:bastion: {enabled: false}\n")
    result = preview_of(stack, "--format", "urns")
    assert result.exit_code == 0, result.stderr
    assert "aws:ec2/instance:Instance" not in result.stdout
    assert result.lines == [
        "warning: poolside:bastion.enabled: false while the cluster's API endpoint is private "
        "(poolside:cluster.endpointPublicAccess is false): kubectl and helm will reach the "
        "cluster only from inside its VPC (a VPN, Direct Connect, a peered network or an instance "
        "in its subnets); keep the bastion, or open the endpoint to "
        "poolside:cluster.publicAccessCidrs"
    ]


def test_no_bastion_with_a_public_endpoint_is_not_warned_about(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.public.yaml"
    stack.write_text(
        CREATED_CLUSTER
        + "    endpointPublicAccess: true\n"
        + "    publicAccessCidrs: [203.0.113.0/24]\n"
        + "  poolside:bastion: {enabled: false}\n"
    )
    result = preview_of(stack, "--format", "urns")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""


# -- the one line is the only output, in every process ---------------------------------------------


def test_china_with_bedrock_on_is_one_line_in_every_run(tmp_path: Path) -> None:
    """A failed program left event loops open; finalized at exit after their sockets, one of them
    printed a 26-line `Exception ignored in BaseEventLoop.__del__` in most runs."""
    stack = tmp_path / "Pulumi.cnbedrock.yaml"
    stack.write_text(CREATED_CLUSTER.replace("us-east-1", "cn-north-1"))
    for _ in range(5):
        result = subprocess.run(
            [sys.executable, "-m", "offline_preview", "--config-file", str(stack)],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr == (
            "poolside:bedrock.enabled: Amazon Bedrock is not offered in the aws-cn partition: "
            "set it to false\n"
        )


def test_the_partition_and_region_rules_are_reported_beside_other_problems(
    tmp_path: Path,
) -> None:
    stack = tmp_path / "Pulumi.geography.yaml"
    stack.write_text(
        CREATED_CLUSTER.replace("us-east-1", "us-west-2").replace("acme", "Acme")
        + "  poolside:bedrock:\n"
        + "    inferenceProfiles: [{id: eu.anthropic.claude-sonnet-4-20250514-v1:0}]\n"
    )
    assert refused(stack) == [
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme")',
        "poolside:bedrock.inferenceProfiles[0].id: a 'eu' profile cannot be called from the "
        "stack's region us-west-2 (its ARN would not exist there); use the profile of this "
        "region's geography (us., global.) "
        '(got "eu.anthropic.claude-sonnet-4-20250514-v1:0")',
    ]
    stack.write_text(CREATED_CLUSTER.replace("us-east-1", "cn-north-1").replace("acme", "Acme"))
    assert refused(stack) == [
        'poolside:deploymentName: must be a lowercase DNS label of 3-32 characters (got "Acme")',
        "poolside:bedrock.enabled: Amazon Bedrock is not offered in the aws-cn partition: "
        "set it to false",
    ]


def test_a_misspelt_config_block_is_named(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.confg.yaml"
    stack.write_text("confg:\n  aws:region: us-east-1\nnotes: hello\n")
    assert refused(stack) == [
        f"{stack}: confg: not a top-level key of a stack file (config, environment, "
        "secretsprovider, encryptedkey, encryptionsalt); did you mean config?",
        f"{stack}: notes: not a top-level key of a stack file (config, environment, "
        "secretsprovider, encryptedkey, encryptionsalt)",
    ]
