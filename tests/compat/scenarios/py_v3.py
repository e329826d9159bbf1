"""Scenario for the Python SDK langfuse 3.x (run with tests/compat/.venv-v3)."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _py_otel import main  # noqa: E402

if __name__ == "__main__":
    main("v3")
