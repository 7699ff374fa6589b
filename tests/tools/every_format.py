"""`python -m tests.tools.every_format OUTDIR`: every format of every example stack, twice, each
written to `OUTDIR/<stack>.<format>.<run>` exactly as `python -m offline_preview` prints it.

The determinism test runs this in processes with different hash seeds and compares the bytes:
set iteration, the SDK's thread order and dict order must never reach the output.
"""

from __future__ import annotations

import io
import sys
import warnings
from contextlib import redirect_stdout
from pathlib import Path

from offline_preview.__main__ import main
from offline_preview.engine import close_event_loop

FORMATS = ("text", "json", "urns", "markdown")
STACKS = ("dev", "govcloud", "china")
RUNS = 2


def write_all(out: Path) -> None:
    for stack in STACKS:
        for format_ in FORMATS:
            for run in range(RUNS):
                printed = io.StringIO()
                with redirect_stdout(printed):
                    code = main(["--stack", stack, "--format", format_])
                if code != 0:
                    raise SystemExit(f"{stack} {format_}: exit {code}")
                (out / f"{stack}.{format_}.{run}").write_bytes(printed.getvalue().encode())


if __name__ == "__main__":
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulumi(_\w+)?(\.|$)")
    try:
        write_all(Path(sys.argv[1]))
    finally:
        close_event_loop()
