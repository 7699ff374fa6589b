"""The two exceptions of the config model, and the shape of a problem on a named key.

They sit below every other module: the section models raise `CrossFieldError`, and parsing and
the environment checks raise `StackConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

# A problem on a key of a model: the key as a dotted camelCase string or as a path of parts
# (`("cluster", "nodeGroups", 0, "name")`), and the message.
Problem = tuple[str | tuple[str | int, ...], str]


class CrossFieldError(ValueError):
    """Raised by a model validator to report problems on named keys of that model."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in problems))
        self.problems = problems


class StackConfigError(pulumi.RunError):
    """Invalid stack configuration; `str()` is one line per problem, each naming its key."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
