"""The verdict table printed at the end of a gate run."""

from __future__ import annotations

from collections.abc import Sequence

from pytest_wimmelgate.core.verdict import Verdict


def verdict_lines(
    *,
    gates: Sequence[str],
    environment: str,
    environment_source: str,
    version: str,
    commit: str,
    verdict: Verdict,
    run_dir: str,
    waivers: Sequence[dict[str, str]],
) -> list[tuple[str, dict[str, bool]]]:
    """Lines with terminal markup flags, ready for ``TerminalWriter.line``."""
    go = verdict.go
    rows = [
        ("gate", ", ".join(gates) or "(none)"),
        ("environment", f"{environment} ({environment_source})"),
        ("version", f"{version} @ {commit}"),
        ("counts", ", ".join(f"{v} {k}" for k, v in verdict.counts.items())),
        ("run folder", run_dir),
    ]
    width = max(len(k) for k, _ in rows)
    lines: list[tuple[str, dict[str, bool]]] = [(f"{key.ljust(width)}  {value}", {}) for key, value in rows]
    for finding in verdict.findings:
        mark = {"red": True} if finding.level == "NO-GO" else {"yellow": True}
        lines.append((f"{finding.level:<5}  {finding.check:<8} {finding.text}", mark))
    for waiver in waivers:
        lines.append((f"WAIVED {waiver['id']:<8} {waiver['reason']}", {"yellow": True}))
    lines.append((f"VERDICT: {verdict.verdict}", {"green": go, "red": not go, "bold": True}))
    return lines
