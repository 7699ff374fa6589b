"""`python -m stack_config --markdown | --write docs/configuration.md`: the config reference."""

from __future__ import annotations

import sys

from stack_config.reference import main

main(sys.argv[1:])
