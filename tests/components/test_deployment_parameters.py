"""The deployment's SSM parameters: published under the deployment's path, within the bastion's reach."""

from __future__ import annotations

import pytest

from tests.support.bastion import PARAMETER, PREFIX, documents, run
from tests.support.harness import (
    ACCOUNT_ID,
    PARTITIONS,
    REGIONS,
    TAGS,
)
from tests.support.policies import iam_match, statements_by_sid

VALUES = {
    "region": "us-east-1",
    "cluster-name": PREFIX,
    "bucket-name": f"{PREFIX}-{ACCOUNT_ID}",
    "ecr/repository-urls": '{"api":"x"}',
}


@pytest.mark.parametrize("partition", PARTITIONS)
def test_parameters_are_published_under_the_deployments_path(partition: str) -> None:
    recording = run(partition, parameters=VALUES)
    component = recording.one("poolside:aws:DeploymentParameters", "parameters")
    published = recording.by_type(PARAMETER)
    assert {p.parent for p in published} == {component.urn}
    assert {p.name: p.inputs for p in published} == {
        f"parameters-{key.replace('/', '-')}": {
            "name": f"/poolside/deployment/acme/{key}",
            "type": "String",
            "tier": "Standard",
            "dataType": "text",
            "insecureValue": value,
            "tags": TAGS,
        }
        for key, value in VALUES.items()
    }
    assert recording.stack_outputs["parameterPath"] == "/poolside/deployment/acme/"
    arns = recording.stack_outputs["parameterArns"]
    region = REGIONS[partition]
    assert arns["region"] == (
        f"arn:{partition}:ssm:{region}:{ACCOUNT_ID}:parameter/poolside/deployment/acme/region"
    )
    # ... and the bastion's parameter policy reaches every one of them.
    patterns = statements_by_sid(documents(recording)[f"{PREFIX}-bastion-ssm-parameters"])[
        "DeploymentParameters"
    ]["Resource"]
    assert all(any(iam_match(p, arn) for p in patterns) for arn in arns.values())


def test_parameter_names_are_checked() -> None:
    with pytest.raises(Exception, match="parameter names"):
        run("aws", parameters={"bad name": "x"})
