"""The tests' name for the pack's `Resource: "*"` allowlist; the data lives in
`policy/iam_allowlist.py`, which the policy pack reads at run time."""

from policy.iam_allowlist import STAR_ALLOWLIST

__all__ = ["STAR_ALLOWLIST"]
