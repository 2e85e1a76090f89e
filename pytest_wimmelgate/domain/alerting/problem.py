"""One finding of AL-1 or AL-2."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One finding of AL-1/AL-2: what it is about and what is wrong, in one line."""

    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"
