"""Faults through an HTTP hook: ``POST <url>`` with ``{"action", "target", "run_id"}``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_wimmelgate.errors import ConfigError
from pytest_wimmelgate.probes.http import call


class HttpFaults:
    name = "http"

    def __init__(self, settings: Mapping[str, Any], *, source: str) -> None:
        if not settings.get("url"):
            raise ConfigError(source, "faults.http.url", "the URL of the fault hook")
        self._settings = dict(settings)
        self._url = str(settings["url"])
        self._token = settings.get("token")
        self._timeout = float(settings.get("timeout_s", 30))

    def guard_spec(self) -> dict[str, Any]:
        return {"provider": "http", "http": self._settings}

    def block(self, target: str) -> None:
        self._post("block", target)

    def unblock(self, target: str) -> None:
        self._post("unblock", target)

    def failover(self, target: str) -> None:
        self._post("failover", target)

    def _post(self, action: str, target: str) -> None:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        call(
            "POST",
            self._url,
            json={"action": action, "target": target},
            headers=headers,
            timeout=self._timeout,
            expect=(200, 201, 202, 204),
            what=f"fault hook {action} {target}",
        )
