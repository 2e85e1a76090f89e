"""A full sandbox with Prometheus and Alertmanager; parallel start; restarts; nothing survives stop()."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pytest_wimmelgate.metrics import slo
from pytest_wimmelgate.probes import prometheus
from pytest_wimmelgate.sandbox.launcher.info import SandboxInfo
from pytest_wimmelgate.sandbox.launcher.processes import is_alive
from pytest_wimmelgate.sandbox.launcher.stack import Sandbox, SandboxError, database_pid
from tests.sandbox.conftest import Api, pids_in, wait_for, watchdogs_in

RULES = {"ReadinessFailureRate", "HTTP5xxRate", "MongoDBLatencyP95", "PushFailureRate", "LoggingSilence"}
HAS_PROMETHEUS = shutil.which("prometheus") is not None


def test_info_round_trips_through_json(tmp_path: Path) -> None:
    info = SandboxInfo(
        base_url="http://127.0.0.1:1",
        mongodb_uri="mongodb://127.0.0.1:2/wimmelwelt_sandbox",
        s3_endpoint="http://127.0.0.1:3",
        s3_bucket="b",
        s3_region="eu-central-1",
        s3_access_key_id="k",
        s3_secret_access_key="s",
        storage_mode="s3",
        local_storage_path=tmp_path / "files",
        prometheus_url=None,
        alertmanager_url=None,
        workdir=tmp_path,
        version="1",
        commit="c",
        smoke_user="u",
        smoke_password="p",
        auth_secret="a",
        faults="",
        backend_log_file=tmp_path / "b.jsonl",
        db_pid_file=tmp_path / "d.pid",
        s3_pid_file=tmp_path / "s.pid",
        backend_pid_file=tmp_path / "b.pid",
        prometheus_pid_file=None,
        alertmanager_pid_file=None,
        rules_file=tmp_path / "r.yml",
        alertmanager_config_file=tmp_path / "a.yml",
        db_command=("secantusd-py", "--port", "2"),
        owner_pid=1,
    )
    assert SandboxInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    assert info.db_port == 2
    assert info.database_name == "wimmelwelt_sandbox"


def _restart_from_another_process(info: SandboxInfo) -> None:
    """Like a pytest-xdist worker: only the JSON info, no handle on the sandbox."""
    code = (
        "import json, sys\n"
        "from pytest_wimmelgate.sandbox import SandboxInfo, restart_database\n"
        "restart_database(SandboxInfo.from_dict(json.loads(sys.stdin.read())))\n"
    )
    subprocess.run([sys.executable, "-c", code], input=json.dumps(info.to_dict()), text=True, check=True, timeout=60)


def test_monitoring_sandbox_serves_rules_routing_and_metric_data_and_stops_clean(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", traffic_rps=20.0)
    try:
        info = box.start()
        if HAS_PROMETHEUS:
            _check_prometheus_and_alertmanager(box, info)
        else:  # CI installs Prometheus; only a bare machine skips this part
            assert info.prometheus_url is None
        pids = pids_in(info.workdir)
        watchdogs = sorted({*watchdogs_in(info.workdir), *(w.pid for w in box._watchdogs)})
        assert len(watchdogs) == len(pids)
    finally:
        box.stop()
    for pid in pids + watchdogs:
        assert not is_alive(pid), pid
    assert not list((tmp_path / "box" / "pids").glob("*.pid"))


def test_database_restart_keeps_the_data_and_stop_ends_the_restarted_one(tmp_path: Path) -> None:
    box = Sandbox(tmp_path / "box", prometheus="off", alertmanager="off", traffic_rps=5.0)
    watchdogs: list[int] = []
    try:
        info = box.start()
        api = Api(info.base_url, info, "wg-test-restart")
        kept = api.post("/messages", json={"to": "a", "body": "survives", "tag": "wg-test-r"})
        old_pid = database_pid(info)
        _restart_from_another_process(info)
        new_pid = database_pid(info)
        assert new_pid is not None and new_pid != old_pid
        assert old_pid is not None and not is_alive(old_pid)
        assert wait_for(lambda: requests.get(info.base_url + "/readiness", timeout=5).status_code == 200, timeout_s=5)
        assert api.get(f"/messages/{kept.json()['id']}").json()["body"] == "survives"
        pids = pids_in(info.workdir)
        # the restarted database runs under a detached watchdog of another process
        watchdogs = sorted({*watchdogs_in(info.workdir), *(w.pid for w in box._watchdogs)})
        assert new_pid in pids
    finally:
        box.stop()
    for pid in pids + watchdogs:
        assert not is_alive(pid), pid
    assert not list((tmp_path / "box" / "pids").glob("*.pid"))


def _check_prometheus_and_alertmanager(box: Sandbox, info: SandboxInfo) -> None:
    assert info.prometheus_url and info.alertmanager_url
    # start() waits for the rules (what AL-1 reads), not for scrapes
    groups = requests.get(info.prometheus_url + "/api/v1/rules", timeout=5).json()
    group = next(g for g in groups["data"]["groups"] if g["name"] == "wimmelwelt")
    assert {rule["name"] for rule in group["rules"]} == RULES
    assert all(rule["labels"]["severity"] in ("P1", "P2", "P3") for rule in group["rules"])
    config = requests.get(info.alertmanager_url + "/api/v2/status", timeout=5).json()
    original = config["config"]["original"]
    assert "#wimmelwelt-staging" in original
    assert "email_configs" in original
    assert "pagerduty_configs" not in original

    assert box.wait_for_metric_data()
    up = prometheus.query(info.prometheus_url, 'up{job="wimmelwelt-backend"}', timeout=5)
    assert up.values() == [1.0]
    # after the warm-up every default SLI of the metric gates measures a number, not "no data"
    for sli in slo.DEFAULT_SLIS.values():
        if sli.name.startswith("mongodb"):
            continue
        values = prometheus.query(info.prometheus_url, sli.query("1m"), timeout=5).values()
        assert values and all(v == v for v in values), (sli.name, values)
    managers = lambda: requests.get(info.prometheus_url + "/api/v1/alertmanagers", timeout=5).json()  # noqa: E731
    assert wait_for(lambda: managers()["data"]["activeAlertmanagers"], timeout_s=10)


def test_parallel_start_returns_with_every_part_ready(tmp_path: Path) -> None:
    """Database, S3, backend and history start concurrently; start() returns only when all
    are usable: readiness (database and bucket) is 200 at once, the smoke user logs in,
    and the seeded backups are in the bucket."""
    box = Sandbox(tmp_path, prometheus="off", alertmanager="off", traffic_rps=0, history=True)
    try:
        info = box.start()
        readiness = requests.get(info.base_url + "/readiness", timeout=5)
        assert readiness.status_code == 200, readiness.text
        Api(info.base_url, info, "wg-test-parallel")
        import boto3

        s3 = boto3.client(
            "s3",
            endpoint_url=info.s3_endpoint,
            region_name=info.s3_region,
            aws_access_key_id=info.s3_access_key_id,
            aws_secret_access_key=info.s3_secret_access_key,
        )
        listed = s3.list_objects_v2(Bucket=info.s3_bucket, Prefix="backups/")
        assert listed.get("KeyCount", 0) >= 7
        assert sorted(p.stem for p in (tmp_path / "pids").glob("*.pid")) == ["backend", "mongodb", "s3"]
    finally:
        box.stop()


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_shipped_rules_pass_promtool(tmp_path: Path) -> None:
    from pytest_wimmelgate.sandbox.launcher.monitoring import install_configs

    rules, alertmanager = install_configs(tmp_path)
    done = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 rules found" in done.stdout
    if shutil.which("amtool"):
        checked = subprocess.run(
            ["amtool", "check-config", str(alertmanager)], capture_output=True, text=True, timeout=30
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_foreground_run_prints_urls_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest_wimmelgate.sandbox",
            "--workdir",
            str(tmp_path),
            "--prometheus",
            "off",
            "--alertmanager",
            "off",
            "--traffic-rps",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "point gates" in line or not line:
                break
        output = "".join(lines)
        assert "running" in output
        base_url = next(line.split()[1] for line in lines if line.strip().startswith("backend "))
        assert requests.get(base_url + "/health", timeout=5).status_code == 200
        assert "WIMMELGATE_SANDBOX_PASSWORD" in output
        info = SandboxInfo.load(tmp_path)
        assert info.smoke_password not in output
        gates_env = tmp_path / "gates.env"
        assert f"source {gates_env}" in output
        assert gates_env.stat().st_mode & 0o077 == 0, "the file holds sandbox credentials"
        assert f"export SANDBOX_BASE_URL={base_url}" in gates_env.read_text().splitlines()
        pids = pids_in(tmp_path)
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0
        for pid in pids:
            assert not is_alive(pid)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_children_end_when_the_owner_dies(tmp_path: Path) -> None:
    code = (
        "import sys, pathlib\n"
        "from pytest_wimmelgate.sandbox import Sandbox\n"
        "Sandbox(pathlib.Path(sys.argv[1]), prometheus='off', alertmanager='off',"
        " traffic_rps=0).start()\n"
        "print('started', flush=True)\n"
        "import time; time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert owner.stdout is not None
        assert owner.stdout.readline().strip() == "started"
        pids = pids_in(tmp_path)
        watchdogs = watchdogs_in(tmp_path)
        assert len(pids) == 3 and len(watchdogs) == 3
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait(5)
        for pid in pids + watchdogs:
            assert wait_for(lambda pid=pid: not is_alive(pid), timeout_s=10), pid
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        Sandbox(tmp_path).stop()


def test_failed_start_names_the_component_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIMMELGATE_SECANTUSD", "/bin/false")
    box = Sandbox(tmp_path, prometheus="off", alertmanager="off", traffic_rps=0)
    with pytest.raises(SandboxError) as caught:
        box.start()
    message = str(caught.value)
    assert "\n" not in message
    assert "mongodb" in message
    for watchdog in box._watchdogs:
        assert watchdog.poll() is not None
    assert not list((tmp_path / "pids").glob("*.pid"))


def test_backend_refusing_its_settings_fails_the_start_with_its_own_words(tmp_path: Path) -> None:
    """The components start in parallel; the one that fails is named with its last line."""
    box = Sandbox(tmp_path, prometheus="off", alertmanager="off", traffic_rps=0, dialect="klingon")
    with pytest.raises(SandboxError) as caught:
        box.start()
    message = str(caught.value)
    assert "\n" not in message
    assert "sandbox backend exited during start-up" in message
    assert "WIMMELGATE_SANDBOX_DIALECT=klingon" in message
    for pid in pids_in(tmp_path) + [w.pid for w in box._watchdogs]:
        assert not is_alive(pid), pid
    assert not list((tmp_path / "pids").glob("*.pid"))


def test_second_sandbox_refuses_a_busy_workdir(sandbox: SandboxInfo) -> None:
    with pytest.raises(SandboxError, match="in use by a running sandbox"):
        Sandbox(sandbox.workdir, prometheus="off", alertmanager="off").start()
    assert requests.get(sandbox.base_url + "/health", timeout=5).status_code == 200
