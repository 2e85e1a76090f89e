"""pytest-wimmelgate: the Wimmelwelt release runbook as executable release gates."""

__version__ = "0.1.0"
