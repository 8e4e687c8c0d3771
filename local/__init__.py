"""Local emulation: embedded servers, the gateway, and the supervisor behind `make run`."""

import sys
from pathlib import Path

# The engine package lives in functions/, the unit a cloud deploy of one function uploads.
_FUNCTIONS = str(Path(__file__).resolve().parents[1] / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)
