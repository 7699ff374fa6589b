"""The deployment's facts in SSM Parameter Store, under `/poolside/deployment/<deploymentName>/`.

The deployment tooling on the bastion (and anyone with read access to the path) finds the
region, the cluster, the role ARNs, the bucket, the key and the repositories there without
access to the Pulumi state. One `String` parameter in the Standard tier (free, up to 4 KB) per
entry; the bastion's SSM Parameter Store Management Policy covers exactly this path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.replacement import delete_first
from naming import parameter_path

# Letters, digits and `_.-`, in `/`-separated levels (SSM allows more; these stay readable in
# ARNs and in logical names).
_PARAMETER_KEY = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


@dataclass(frozen=True)
class DeploymentParametersArgs:
    deployment_name: str
    values: Mapping[str, pulumi.Input[str]]
    """Parameter name (below the deployment's path) -> value, e.g. `{"region": "us-east-1"}`."""
    tags: dict[str, str] = field(default_factory=dict)


class DeploymentParameters(pulumi.ComponentResource):
    """One `aws.ssm.Parameter` per entry of `values`."""

    path: str
    names: dict[str, pulumi.Output[str]]
    arns: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        args: DeploymentParametersArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        bad = sorted(key for key in args.values if not _PARAMETER_KEY.match(key))
        if bad:
            raise ValueError(
                f"parameter names {bad} must be letters, digits, '_', '.' or '-' in "
                "'/'-separated levels"
            )
        super().__init__("poolside:aws:DeploymentParameters", name, None, opts)
        # The path ends in `/`: `aws ssm get-parameters-by-path --path <path>` takes it as is.
        self.path = f"{parameter_path(args.deployment_name)}/"

        self.parameters: dict[str, aws.ssm.Parameter] = {}
        for key, value in sorted(args.values.items()):
            self.parameters[key] = aws.ssm.Parameter(
                f"{name}-{key.replace('/', '-')}",
                name=f"{self.path}{key}",
                type="String",
                tier="Standard",
                data_type="text",
                # Names and ARNs, not secrets: `insecure_value` keeps them readable in the plan
                # (`value` is always marked secret).
                insecure_value=value,
                tags=args.tags,
                opts=delete_first(self),
            )

        self.names = {key: p.name for key, p in self.parameters.items()}
        self.arns = {key: p.arn for key, p in self.parameters.items()}
        self.register_outputs({"path": self.path})
