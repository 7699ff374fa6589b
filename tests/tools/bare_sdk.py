"""The floor of `make bench`: a bare Pulumi SDK process under mocks, nothing of the project.

It starts Python, imports the SDK, sets the mocks, registers one resource, waits until the mock
engine has answered (its URN is known) and exits: what any test run under mocks pays at least.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(
        self, args: pulumi.runtime.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def main() -> str:
    pulumi.runtime.set_mocks(Mocks(), project="bench", stack="floor", preview=True)
    resource = pulumi.CustomResource("bench:index:Thing", "one", {"value": 1})
    urn = _sync_await(resource.urn.future())
    assert urn is not None
    return urn


if __name__ == "__main__":
    print(main())
