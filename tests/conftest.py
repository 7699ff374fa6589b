import sys
from pathlib import Path

# The program is a Pulumi project, not an installed package: its modules import from its root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
