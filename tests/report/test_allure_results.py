"""The Allure results a gate run leaves: titled by check id, failed is failed, gates that ran, waivers shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_wimmelgate.artifacts import allure_results
from pytest_wimmelgate.config.secrets import SecretSet
from tests.report.conftest import clean_environ

CHECKS_OF_EVERY_KIND = """
import pytest
from pytest_wimmelgate.errors import Category, CheckFailed, NotConfigured

@pytest.mark.check("SG-1")
def test_health():
    pass

@pytest.mark.check("SG-2")
def test_readiness():
    raise CheckFailed(Category.INFRASTRUCTURE, "GET /readiness: connection refused")

@pytest.mark.check("SG-4")
def test_auth():
    {}["token"]

@pytest.mark.check("SG-5")
@pytest.mark.parametrize("storage", ["s3", "local"])
def test_messages(storage):
    pass

@pytest.mark.check("SG-6")
def test_upload_small():
    pass

@pytest.mark.check("SG-6")
def test_upload_large():
    pass

@pytest.mark.check("SG-10")
def test_dashboards():
    raise NotConfigured("grafana.url")
"""

ENV = """
name: testenv
protected: false
waivers:
  - {id: SG-10, reason: "no Grafana in this lab", until: "2099-12-31"}
"""


INNER_RUN = (sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--wg-env=env.yaml", "--wg-release-dir=rel")


@pytest.fixture(scope="module", params=["-n0", "-n2"])
def results(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """The result files of one inner staging gate run, by title (without and with xdist workers)."""
    folder = tmp_path_factory.mktemp("every-kind")
    (folder / "env.yaml").write_text(ENV)
    (folder / "test_checks.py").write_text(CHECKS_OF_EVERY_KIND)
    done = subprocess.run(
        [*INNER_RUN, "-m", "staging_gate", request.param],
        cwd=folder,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    [run_dir] = (folder / "rel").glob("*/*/*")
    found: dict[str, dict[str, Any]] = {}
    for path in (run_dir / "allure-results").glob("*-result.json"):
        data = json.loads(path.read_text())
        found[data["name"]] = data
    return found


def labels(result: dict[str, Any], name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_every_check_is_titled_by_its_id_and_catalogue_title(results: dict[str, dict[str, Any]]) -> None:
    titles = sorted(name for name in results if not name.startswith("Catalogue coverage"))
    assert titles == [
        "SG-1 · /health 200 with the expected version and commit",
        "SG-10 · Grafana dashboards load",
        "SG-2 · /readiness 200",
        "SG-4 · auth: login, wrong password 401, no token 401, rate limit 429",
        "SG-5 · messaging: send, read back, delete [local]",
        "SG-5 · messaging: send, read back, delete [s3]",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_large)",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_small)",
    ]
    for name, result in results.items():
        if not name.startswith("Catalogue coverage"):
            assert name.startswith(labels(result, "check")[0] + " · ")


def test_a_failure_is_failed_with_its_category_whatever_exception_carried_it(
    results: dict[str, dict[str, Any]],
) -> None:
    assert {r["status"] for r in results.values()} <= {"passed", "failed", "skipped"}, "nothing is broken"
    readiness = results["SG-2 · /readiness 200"]
    assert readiness["status"] == "failed"
    assert readiness["statusDetails"]["message"] == "[infrastructure unreachable] GET /readiness: connection refused"
    auth = results["SG-4 · auth: login, wrong password 401, no token 401, rate limit 429"]
    assert auth["status"] == "failed"
    assert auth["statusDetails"]["message"] == "[product defect] KeyError: 'token'"


def test_only_the_gates_that_ran_are_epics(results: dict[str, dict[str, Any]]) -> None:
    health = results["SG-1 · /health 200 with the expected version and commit"]
    assert labels(health, "epic") == ["staging_gate"], "SG-1 belongs to prod_smoke too, which did not run"
    assert all(
        "prod_smoke" not in labels(r, "epic") and "post_deploy" not in labels(r, "epic") for r in results.values()
    )


def test_a_waived_check_carries_its_waiver_reason_and_expiry(results: dict[str, dict[str, Any]]) -> None:
    waived = results["SG-10 · Grafana dashboards load"]
    assert waived["status"] == "skipped"
    parameters = {p["name"]: p["value"] for p in waived["parameters"]}
    assert parameters == {"waiver": "no Grafana in this lab", "waiver until": "2099-12-31"}
    assert "waived" in labels(waived, "tag")
    message = waived["statusDetails"]["message"]
    assert message == "waived until 2099-12-31: no Grafana in this lab — NotConfigured: not configured: grafana.url"
    assert waived["description"].startswith("waived until 2099-12-31: no Grafana in this lab")


def test_the_runbook_links_point_at_the_page_rendered_next_to_the_report(results: dict[str, dict[str, Any]]) -> None:
    links = results["SG-2 · /readiness 200"]["links"]
    assert links == [{"type": "link", "url": "runbook.html#22-staging-gate-t-12h", "name": "Runbook §2.2"}]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("pytest_wimmelgate.errors.CheckFailed: [SLO violated] p95 612 ms", "[SLO violated] p95 612 ms"),
        ("AssertionError: assert 503 == 200", "[product defect] AssertionError: assert 503 == 200"),
        ("pytest_wimmelgate.errors.ConfigError: env.yaml: x: y", "[configuration missing] ConfigError: env.yaml: x: y"),
        ("requests.exceptions.ReadTimeout: read timed out", "[product defect] ReadTimeout: read timed out"),
        ("something odd", "[product defect] something odd"),
    ],
)
def test_messages_are_led_by_their_category(message: str, expected: str) -> None:
    assert allure_results.categorised(message) == expected


def test_finalise_keeps_titles_of_reruns_and_is_repeatable(tmp_path: Path) -> None:
    base = {"labels": [{"name": "check", "value": "SG-2"}, {"name": "epic", "value": "staging_gate"}]}
    for index in range(2):
        result = {**base, "name": "SG-2 · /readiness 200", "fullName": "suites.test_health#test_readiness"}
        (tmp_path / f"{index}-result.json").write_text(json.dumps(result))
    waivers = {"SG-2": allure_results.WaiverFacts("shadow mode", None)}
    assert allure_results.finalise(tmp_path, gates=["staging_gate"], waivers=waivers, secrets=SecretSet()) == 2
    assert allure_results.finalise(tmp_path, gates=["staging_gate"], waivers=waivers, secrets=SecretSet()) == 0
    for path in tmp_path.glob("*-result.json"):
        data = json.loads(path.read_text())
        assert data["name"] == "SG-2 · /readiness 200", "the same test run twice keeps its title"
        assert [p["value"] for p in data["parameters"]] == ["shadow mode", "no expiry"]


def test_results_shaped_when_written_leave_finalise_nothing_to_rewrite(tmp_path: Path) -> None:
    tests = [
        ("SG-6", "test_upload_small", "suites/test_smoke.py::test_upload_small"),
        ("SG-6", "test_upload_large", "suites/test_smoke.py::test_upload_large"),
        ("SG-5", "test_messages[s3]", "suites/test_smoke.py::test_messages"),
        ("SG-5", "test_messages[local]", "suites/test_smoke.py::test_messages"),
        (None, "test_helper", "suites/test_smoke.py::test_helper"),
    ]
    shape = allure_results.ResultShape(gates=("staging_gate",), shared=allure_results.shared_titles(tests))
    assert shape.shared == {"SG-6 · upload: upload, download identical bytes, delete"}
    epics = [{"name": "epic", "value": "staging_gate"}, {"name": "epic", "value": "prod_smoke"}]
    for check_id, name, _ in tests[:4]:
        result = {"name": name, "fullName": f"suites.test_smoke#{name.split('[')[0]}", "status": "passed"}
        result["labels"] = [{"name": "check", "value": check_id}, *epics]
        shaped = allure_results.shape_result(result, shape)
        assert [label["value"] for label in shaped["labels"] if label["name"] == "epic"] == ["staging_gate"]
        (tmp_path / f"{name}-result.json").write_text(json.dumps(shaped))
    names = sorted(json.loads(p.read_text())["name"] for p in tmp_path.glob("*-result.json"))
    assert names == [
        "SG-5 · messaging: send, read back, delete [local]",
        "SG-5 · messaging: send, read back, delete [s3]",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_large)",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_small)",
    ]
    assert allure_results.finalise(tmp_path, gates=["staging_gate"], waivers={}, secrets=SecretSet()) == 0


@pytest.mark.parametrize("workers", ["-n0", "-n2"])
def test_without_waivers_results_are_right_as_written_with_and_without_workers(tmp_path: Path, workers: str) -> None:
    """No waiver: nothing is rewritten at the end, so titles and epics must be right as each process wrote them."""
    (tmp_path / "env.yaml").write_text("name: testenv\nprotected: false\n")
    (tmp_path / "test_checks.py").write_text(CHECKS_OF_EVERY_KIND.split('@pytest.mark.check("SG-10")')[0])
    done = subprocess.run(
        [*INNER_RUN, "-m", "staging_gate", workers],
        cwd=tmp_path,
        env=clean_environ(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout[-3000:]
    [run_dir] = (tmp_path / "rel").glob("*/*/*")
    found = [json.loads(p.read_text()) for p in (run_dir / "allure-results").glob("*-result.json")]
    by_title = {r["name"]: r for r in found if labels(r, "check")}
    assert sorted(by_title) == [
        "SG-1 · /health 200 with the expected version and commit",
        "SG-2 · /readiness 200",
        "SG-4 · auth: login, wrong password 401, no token 401, rate limit 429",
        "SG-5 · messaging: send, read back, delete [local]",
        "SG-5 · messaging: send, read back, delete [s3]",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_large)",
        "SG-6 · upload: upload, download identical bytes, delete (test_upload_small)",
    ]
    assert labels(by_title["SG-1 · /health 200 with the expected version and commit"], "epic") == ["staging_gate"]
