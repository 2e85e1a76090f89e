"""``python -m pytest_wimmelgate.sandbox``: the sandbox in the foreground."""

from __future__ import annotations

import sys

from pytest_wimmelgate.sandbox.launcher.foreground import run_foreground

if __name__ == "__main__":
    sys.exit(run_foreground(sys.argv[1:]))
