"""JSON log lines, one object per line, as the Wimmelwelt backend writes them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import IO, Any

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def utc_timestamp(epoch: float | None = None) -> str:
    """ISO 8601 UTC with milliseconds, e.g. ``2026-11-28T19:02:11.123Z``."""
    now = time.time() if epoch is None else epoch
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class JsonLog:
    """Writes ``{"ts", "level", "msg", ...fields}`` lines at or above ``level``."""

    def __init__(
        self,
        stream: IO[str],
        *,
        level: str = "info",
        static: dict[str, Any] | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self._stream = stream
        self._threshold = LEVELS[level]
        self._static = dict(static or {})
        self._on_line = on_line
        self._lock = threading.Lock()

    def log(self, level: str, msg: str, **fields: Any) -> None:
        if LEVELS[level] < self._threshold:
            return
        record: dict[str, Any] = {"ts": utc_timestamp(), "level": level, "msg": msg}
        record.update(self._static)
        record.update({k: v for k, v in fields.items() if v is not None})
        line = json.dumps(record, default=str, ensure_ascii=False)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()
        if self._on_line is not None:
            self._on_line(level)

    def debug(self, msg: str, **fields: Any) -> None:
        self.log("debug", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.log("info", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.log("warning", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.log("error", msg, **fields)
