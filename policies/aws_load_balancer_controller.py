"""Load Balancer Controller Policy: the AWS Load Balancer Controller's IAM policy.

Source
------
The policy is the one published by the kubernetes-sigs/aws-load-balancer-controller
repository (https://github.com/kubernetes-sigs/aws-load-balancer-controller), files
``docs/install/iam_policy*.json`` at tag ``v3.5.0``:

* ``iam_policy.json`` (partition ``aws``),
* ``iam_policy_us-gov.json`` (partition ``aws-us-gov``),
* ``iam_policy_cn.json`` (partition ``aws-cn``).

At v3.5.0 the three files hold the same 16 statements (same actions, resources and
conditions); they differ only in the ARN partition and in the order of two
statements, which has no effect on IAM evaluation. The project therefore carries the
policy once, in ``data/aws-load-balancer-controller-v3.5.0.json`` beside this module,
in the statement order of the commercial (``aws``) file, with every ARN partition
written as the placeholder ``${Partition}``. :func:`load_balancer_controller_policy`
substitutes the real partition on load.

How to update
-------------
1. Download ``docs/install/iam_policy.json``, ``iam_policy_us-gov.json`` and
   ``iam_policy_cn.json`` from the repository at the new tag.
2. Compare them after normalising the partition in ARNs. If they differ in anything
   but the partition and the statement order, represent the difference here (for
   example a small per-partition override) instead of dropping it.
3. Regenerate the data file from ``iam_policy.json``, replacing the ``aws``
   partition of every ARN with the placeholder (``arn:${Partition}:...``), under a
   new name carrying the version
   (``data/aws-load-balancer-controller-<tag>.json``); delete the old one.
4. Bump :data:`LOAD_BALANCER_CONTROLLER_POLICY_VERSION` to the new tag.
5. Put the upstream files for the new tag where the tests look for them (the
   ``reference/aws-load-balancer-controller-<tag>/`` folder of the team's shared
   folder beside the clone; the program itself never reads it), then update and
   rerun ``tests/test_aws_load_balancer_controller_policy.py``: the comparison with
   upstream, the statement count, the action list and the size limit.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from naming import Policy
from policies.spec import PolicyOrigin

LOAD_BALANCER_CONTROLLER_POLICY_VERSION = "v3.5.0"

PARTITION_PLACEHOLDER = "${Partition}"

SUPPORTED_PARTITIONS: frozenset[str] = frozenset({"aws", "aws-us-gov", "aws-cn"})

# The spec's heading; the spec leaves the actions to terraform-aws-modules'
# `iam-role-for-service-accounts-eks`, whose attachment is this same published policy.
ORIGINS: dict[str, PolicyOrigin] = {
    Policy.LOAD_BALANCER_CONTROLLER: PolicyOrigin(
        "Load Balancer Controller Policy",
        in_spec=True,
        source=(
            "kubernetes-sigs/aws-load-balancer-controller, `docs/install/iam_policy*.json` at "
            f"{LOAD_BALANCER_CONTROLLER_POLICY_VERSION}, statement for statement"
        ),
        omitted_when="`loadBalancerController.enabled` is false",
    ),
}

_DATA_FILE = (
    Path(__file__).parent
    / "data"
    / f"aws-load-balancer-controller-{LOAD_BALANCER_CONTROLLER_POLICY_VERSION}.json"
)


@functools.cache
def _template_text() -> str:
    """Return the packaged policy template (with ``${Partition}`` placeholders)."""
    return _DATA_FILE.read_text(encoding="utf-8")


def _substitute(value: Any, partition: str) -> Any:
    """Return a copy of ``value`` with the placeholder replaced in every string."""
    if isinstance(value, str):
        return value.replace(PARTITION_PLACEHOLDER, partition)
    if isinstance(value, list):
        return [_substitute(item, partition) for item in value]
    if isinstance(value, dict):
        return {
            _substitute(key, partition): _substitute(item, partition) for key, item in value.items()
        }
    return value


def load_balancer_controller_policy(partition: str) -> dict[str, Any]:
    """Return the Load Balancer Controller Policy document for ``partition``.

    The result is a fresh plain dict with ``Version`` and ``Statement`` keys, ready
    for ``json.dumps``; callers may modify it freely.

    Raises:
        ValueError: if ``partition`` is not one of ``aws``, ``aws-us-gov``, ``aws-cn``.
    """
    if partition not in SUPPORTED_PARTITIONS:
        raise ValueError(
            f"unsupported AWS partition {partition!r}; "
            f"expected one of {sorted(SUPPORTED_PARTITIONS)}"
        )
    template = json.loads(_template_text())
    document = _substitute(template, partition)
    if not isinstance(document, dict):
        raise TypeError(f"{_DATA_FILE} does not hold a JSON object")
    return document
