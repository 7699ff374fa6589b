"""Poolside's guardrails: a Pulumi policy pack (`__main__.py`), and the same rules offline
(`python -m policy.check PLAN.json`).

The rules are plain Python on plain values (`rules.py` and the modules it registers); the
pack's adapter to `pulumi_policy` lives in `__main__.py` only, so the offline check and the
program never need the policy SDK. Nothing here imports the project's own modules: the pack runs
from its own directory and virtualenv.
"""
