"""Inputs and probes shared by the release-gate tests: variable sets, files, Alertmanager."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests

from tests.gates.conftest import ROOT

PRODUCTION_YAML = ROOT / "environments" / "production.yaml"
SANDBOX_YAML = ROOT / "environments" / "sandbox.yaml"

#: a complete, valid production variable set (runbook 6); the secrets are unique strings.
MONGO_PASSWORD = "Pr0d@Db-Pw-7f3K9q2LmX"
OTEL_TOKEN = "prod-otel-TOKEN-3Vn8Rt5Yp1"
PRODUCTION: dict[str, str] = {
    "MONGODB_URI": f"mongodb+srv://wimmel_app:{quote(MONGO_PASSWORD, safe='')}@cluster-prod.ab12c.mongodb.example"
    "/wimmelwelt_prod?retryWrites=true&w=majority",
    "AUTH_SECRET": "q7W!x9Zr2#Lm4Vb8Np6Tt1Ks3Hd5Yf0Gj",
    "AWS_ACCESS_KEY_ID": "AKIA4PRODQ7W2E9R1T5Y",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPRODKEY9x1",
    "FILE_STORAGE_MODE": "s3",
    "AWS_REGION": "eu-central-1",
    "LOG_LEVEL": "info",
    "LOG_ENDPOINT": "https://logs.wimmel.example/ingest",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.wimmel.example:4318",
    "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer%20{OTEL_TOKEN}",
}
#: the secret values of PRODUCTION, as a reader would recognise them.
PRODUCTION_SECRETS = {
    "AUTH_SECRET": PRODUCTION["AUTH_SECRET"],
    "AWS_SECRET_ACCESS_KEY": PRODUCTION["AWS_SECRET_ACCESS_KEY"],
    "Mongo password": MONGO_PASSWORD,
    "OTEL token": OTEL_TOKEN,
}
#: staging's values, where production.yaml's ``variables.foreign.from_env`` reads them.
STAGING_FOR_COMPARISON: dict[str, str] = {
    "STAGING_AUTH_SECRET_FOR_COMPARISON": "Stg!Auth-Secret-4kZ9qL2xW7pR0mB5vN8cT3",
    "STAGING_MONGODB_URI_FOR_COMPARISON": "mongodb://wimmel_stg:Stg-Db-Pw-Qx81Lk02Zr@db1.staging.wimmel.example:27017,"
    "db2.staging.wimmel.example:27017/wimmelwelt_staging?replicaSet=rs0",
    "STAGING_OTEL_HEADERS_FOR_COMPARISON": "authorization=Bearer%20stg-otel-TOKEN-7Hq2Wm9Kx4",
}
#: settings of the outer process that would change what an inner gate run does.
RUN_SETTINGS = (
    "WIMMELGATE_ENV",
    "WIMMELGATE_ENV_FILE",
    "WIMMELGATE_NOW",
    "WIMMELGATE_VERSION",
    "WIMMELGATE_COMMIT",
    "WIMMELGATE_RELEASE_DIR",
    "WIMMELGATE_FINGERPRINT_KEY",
)


def clear_run_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No outer setting leaks into inner runs; the Allure HTML report only where a test asks
    for it (``--wg-report auto``): it costs a second per run and these tests read the results."""
    for name in RUN_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WIMMELGATE_REPORT", "off")


def write_dotenv(path: Path, variables: Mapping[str, str]) -> Path:
    """A dotenv file; values are single-quoted (taken literally by the dotenv reader)."""
    path.write_text("".join(f"{name}='{value}'\n" for name, value in variables.items()), encoding="utf-8")
    return path


def write_env_file(path: Path, extends: Path, body: str) -> Path:
    """An environment file extending ``extends``."""
    path.write_text(f"extends: {extends}\n{body.strip()}\n", encoding="utf-8")
    return path


def placeholder_variables(path: Path) -> set[str]:
    """Every ``${VAR}`` an environment file names."""
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", path.read_text(encoding="utf-8")))


# ----------------------------------------------------------------------------- results


def run_dirs(release_dir: Path) -> list[Path]:
    return sorted(p.parent for p in release_dir.rglob("gate-summary.json"))


def checks_by_outcome(summary: Mapping[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for item in summary["checks"]:
        found.setdefault(item["outcome"], set()).add(item["id"])
    return found


def allure_results(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in (run_dir / "allure-results").glob("*-result.json")]


def allure_result_of(run_dir: Path, test_name: str) -> dict[str, Any]:
    found = [r for r in allure_results(run_dir) if test_name in str(r.get("fullName", ""))]
    assert found, f"no Allure result for {test_name} in {run_dir}"
    return found[-1]


def allure_attachment(run_dir: Path, result: Mapping[str, Any], name: str) -> Any:
    """The parsed JSON attachment ``name`` of an Allure result."""
    found = [a for a in result.get("attachments", []) if a.get("name") == name]
    assert found, f"no attachment {name!r} in {[a.get('name') for a in result.get('attachments', [])]}"
    return json.loads((run_dir / "allure-results" / found[-1]["source"]).read_text(encoding="utf-8"))


def assert_one_error_line(output: str, *needles: str) -> str:
    """Exactly one ``ERROR:`` line holding every needle; no traceback anywhere."""
    __tracebackhide__ = True
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, output
    for needle in needles:
        assert needle in errors[0], errors[0]
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    return errors[0]


# ----------------------------------------------------------------------------- secrets


def secret_forms(secrets: Iterable[str]) -> dict[bytes, str]:
    """Each secret as raw text, percent-encoded (both flavours), and JSON-escaped."""
    forms: dict[bytes, str] = {}
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1]}:
            forms[form.encode("utf-8")] = secret
    return forms


_REPORT_BLOB = re.compile(rb"d\('[^']*',\s*'([A-Za-z0-9+/=]+)'\)")
_DATA_URI = re.compile(rb"base64,([A-Za-z0-9+/=]+)")


def _decoded_blobs(body: bytes) -> Iterator[bytes]:
    """Base64 payloads inside a single-file Allure report (``d('path','...')``, data URIs)."""
    for pattern in (_REPORT_BLOB, _DATA_URI):
        for match in pattern.finditer(body):
            try:
                yield base64.b64decode(match.group(1), validate=False)
            except ValueError:
                continue


def leaks(secrets: Iterable[str], texts: Mapping[str, bytes], folder: Path) -> list[str]:
    """``where: which secret`` for every form of a secret found in the texts or under folder."""
    forms = secret_forms(secrets)
    sources: dict[str, bytes] = dict(texts)
    for path in folder.rglob("*"):
        if path.is_file():
            body = path.read_bytes()
            sources[str(path)] = body
            for i, blob in enumerate(_decoded_blobs(body)):
                sources[f"{path} (base64 payload {i})"] = blob
    return [f"{where}: {secret}" for where, body in sources.items() for form, secret in forms.items() if form in body]


# ----------------------------------------------------------------------------- Alertmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ALERTMANAGER_CONFIG = """\
route:
  receiver: nowhere
  group_wait: 1h
receivers:
  - name: nowhere
"""


@dataclass
class Alertmanager:
    """A real Alertmanager (Debian ``prometheus-alertmanager``) this test process started."""

    url: str
    process: subprocess.Popen[bytes]

    def post(self, *alerts: Mapping[str, Any]) -> None:
        answer = requests.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5)
        assert answer.status_code == 200, answer.text

    def active(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.url}/api/v2/alerts", params={"active": "true"}, timeout=5)
        answer.raise_for_status()
        return list(answer.json())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def start_alertmanager(workdir: Path, timeout_s: float = 20.0) -> Alertmanager:
    """Start Alertmanager on a free loopback port; returns once /-/ready answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG, encoding="utf-8")
    last: Exception | None = None
    for _attempt in range(3):
        port = free_port()
        log = (workdir / f"alertmanager-{port}.log").open("wb")
        process = subprocess.Popen(
            [
                "prometheus-alertmanager",
                f"--config.file={config}",
                f"--storage.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        manager = Alertmanager(f"http://127.0.0.1:{port}", process)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if requests.get(f"{manager.url}/-/ready", timeout=1).status_code == 200:
                    return manager
            except requests.RequestException as error:
                last = error
            time.sleep(0.1)
        manager.stop()
    raise RuntimeError(f"Alertmanager did not start in {workdir}: {last}")


def p1_alert(name: str, severity: str = "P1", minutes: int = 30) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, "severity": severity, "service": "wimmelwelt-backend"},
        "annotations": {"summary": f"{name} (posted by the release-gate tests)"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
        "endsAt": (now + timedelta(minutes=minutes)).isoformat(),
    }
