"""`make bench`: the test suite and the offline preview against a bare Pulumi SDK process.

Three commands, each a subprocess timed the same way (`time.perf_counter` around it), in
interleaved rounds so that a busy machine slows them alike; the median of the rounds counts:

* floor: `tests/tools/bare_sdk.py`, a bare SDK process under mocks (one resource);
* suite: `python -m pytest` (`make unit`), with `--suite-args` appended;
* preview: `python -m offline_preview --stack dev` (`make preview`).

It prints each time and the ratios suite/floor and preview/floor. It asserts nothing: a wall
clock is no test (a shared machine's load says more than the code), so it reports the load too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITE_TARGET = 8.0  # the suite at most 8x the floor (issue 12)


def commands(suite_args: list[str]) -> dict[str, list[str]]:
    python = sys.executable
    return {
        "floor": [python, str(ROOT / "tests" / "tools" / "bare_sdk.py")],
        "suite": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *suite_args],
        "preview": [python, "-m", "offline_preview", "--stack", "dev"],
    }


def timed(command: list[str]) -> float:
    """Seconds the command takes, start to exit; it must succeed."""
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{shlex.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3; the median counts)")
    parser.add_argument(
        "--suite-args", default="", help="appended to the suite's pytest command, e.g. '-n 2'"
    )
    args = parser.parse_args(argv)
    measured = commands(shlex.split(args.suite_args))
    times: dict[str, list[float]] = {name: [] for name in measured}
    load_before = os.getloadavg()[0]
    for round_ in range(1, args.runs + 1):
        for name, command in measured.items():
            times[name].append(timed(command))
            print(f"round {round_}: {name:8} {times[name][-1]:7.2f} s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{'':8} {'median':>8} {'min':>8} {'max':>8}  command")
    for name, command in measured.items():
        values = times[name]
        shown = shlex.join(command).replace(sys.executable, "python").replace(str(ROOT) + "/", "")
        print(f"{name:8} {median[name]:7.2f}s {min(values):7.2f}s {max(values):7.2f}s  {shown}")
    suite_ratio = median["suite"] / median["floor"]
    print(f"suite/floor:   {suite_ratio:6.1f}x  (target at most {SUITE_TARGET:g}x)")
    print(f"preview/floor: {median['preview'] / median['floor']:6.1f}x")
    print(
        f"cores: {os.cpu_count()}, load average before {load_before:.2f}, "
        f"after {os.getloadavg()[0]:.2f}, runs: {args.runs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
