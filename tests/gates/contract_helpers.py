"""Helpers of the backend-contract gate tests: the sandbox's own counts, and a scan for session tokens."""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Any

import requests

from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo

#: the sandbox's session tokens: base64url JSON claims ("sub", "exp") "." base64url signature
TOKEN = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
_BLOB = re.compile(rb"(?:base64,|d\('[^']*',\s*')([A-Za-z0-9+/=]{16,})")


def stats(info: SandboxInfo) -> dict[str, Any]:
    """Open sessions and records, in total and per run tag (``GET /_sandbox/stats``)."""
    return dict(requests.get(f"{info.base_url}/_sandbox/stats", timeout=10).json())


def left_by(info: SandboxInfo, run_id: str) -> dict[str, int]:
    """What a run left on the sandbox (records and open sessions under its tag); {} when nothing."""
    return {k: v for k, v in stats(info)["by_tag"].get(run_id, {}).items() if v}


def _is_token(candidate: bytes) -> bool:
    payload = candidate.split(b".", 1)[0]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + b"=" * (-len(payload) % 4)))
    except (ValueError, binascii.Error):
        return False
    return isinstance(claims, dict) and "sub" in claims and "exp" in claims


def tokens_in(folder: Path) -> list[str]:
    """Every session token found in any file under ``folder`` (also inside base64 payloads of the report)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        bodies = [path.read_bytes()]
        for match in _BLOB.finditer(bodies[0]):
            try:
                bodies.append(base64.b64decode(match.group(1), validate=False))
            except (ValueError, binascii.Error):
                continue
        for body in bodies:
            found.extend(f"{path}: {m.group(0)[:16].decode()}…" for m in TOKEN.finditer(body) if _is_token(m.group(0)))
    return found
