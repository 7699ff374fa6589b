"""What the program knows of AWS partitions and instance types."""

from __future__ import annotations

import pytest

from aws_environment import is_arm64_instance_type, service_principal


def test_an_unknown_partition_has_no_ec2_principal() -> None:
    with pytest.raises(
        ValueError, match="no service principal known for 'ec2' in partition 'aws-iso'"
    ):
        service_principal("ec2", "aws-iso")


@pytest.mark.parametrize(
    ("instance_type", "arm64"),
    [
        ("t3.medium", False),
        ("m6i.large", False),
        ("g4dn.xlarge", False),
        ("g6e.12xlarge", False),
        ("m7i-flex.large", False),
        ("t4g.medium", True),
        ("m7g.large", True),
        ("c7gn.xlarge", True),
        ("x2gd.medium", True),
        ("g5g.xlarge", True),
        ("a1.large", True),
    ],
)
def test_arm64_instance_types_are_recognised(instance_type: str, arm64: bool) -> None:
    assert is_arm64_instance_type(instance_type) is arm64
