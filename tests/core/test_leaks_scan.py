"""The leak gate's scanner and the pytest-facing redaction pieces, without a gate run."""

from __future__ import annotations

import base64
import io
import logging
from pathlib import Path

from pytest_wimmelgate.artifacts.leak_scan import LeakFinding, LeakScan, LeakScanner, record_in_summary, with_findings
from pytest_wimmelgate.config.secrets import MASK, SecretSet
from pytest_wimmelgate.core.redaction import RedactingStream, redact_record
from pytest_wimmelgate.core.verdict import decide

SECRET = "Leak-Scan-Secret-42x"


def test_scanner_redacts_a_hit_in_place_and_names_file_and_form_only(tmp_path: Path) -> None:
    (tmp_path / "clean.txt").write_text("nothing here")
    (tmp_path / "sub").mkdir()
    leaky = tmp_path / "sub" / "debug.log"
    leaky.write_text("auth " + base64.b64encode(SECRET.encode()).decode() + "\n")
    secrets = SecretSet.of([SECRET])
    scan = LeakScanner(tmp_path, secrets).scan()
    assert scan.files == 2 and scan.forms == len(secrets.forms) == 4  # plain and base64 at three alignments
    assert scan.findings == (LeakFinding("sub/debug.log", "base64"),)
    assert scan.findings[0].reason == "secret found in sub/debug.log (base64)"
    assert leaky.read_text() == f"auth {MASK}\n"
    assert SECRET not in repr(scan.to_json())


def test_binary_files_keep_their_other_bytes(tmp_path: Path) -> None:
    image = tmp_path / "shot.png"
    image.write_bytes(b"\x89PNG\xff\xfe" + SECRET.encode() + b"\x00\x01")
    scan = LeakScanner(tmp_path, SecretSet.of([SECRET])).scan()
    assert [f.form for f in scan.findings] == ["plain"]
    assert image.read_bytes() == b"\x89PNG\xff\xfe***\x00\x01"


def test_a_second_scan_reads_only_new_or_changed_files_and_extra_roots(tmp_path: Path) -> None:
    run_dir, user_dir = tmp_path / "run", tmp_path / "user-allure"
    run_dir.mkdir()
    user_dir.mkdir()
    (run_dir / "a.json").write_text("{}")
    scanner = LeakScanner(run_dir, SecretSet.of([SECRET]), extra=[user_dir, None])
    assert scanner.scan().files == 1
    (run_dir / "report.html").write_text(f"<p>{SECRET}</p>")
    (user_dir / "x-result.json").write_text(f'{{"name": "{SECRET}"}}')
    scan = scanner.scan()
    assert scan.files == 3
    assert {f.file for f in scan.findings} == {"report.html", str(user_dir / "x-result.json")}


def test_findings_make_the_summary_and_the_verdict_no_go() -> None:
    scan = LeakScan(files=3, forms=40, findings=(LeakFinding("junit.xml", "percent-encoded"),))
    data = {"verdict": "GO", "reasons": [], "exit_status": 0}
    assert record_in_summary(data, scan) is True  # changed: the summary is written again at once
    assert data == {
        "verdict": "NO-GO",
        "reasons": ["leak scan: secret found in junit.xml (percent-encoded)"],
        "exit_status": 1,
        "leak_scan": {"files": 3, "forms": 40, "findings": [{"file": "junit.xml", "form": "percent-encoded"}]},
    }
    verdict = with_findings(decide([]), scan)
    assert not verdict.go and "leak scan: secret found in junit.xml (percent-encoded)" in verdict.reasons
    clean = {"verdict": "GO", "exit_status": 0}
    assert record_in_summary(clean, LeakScan(files=3, forms=40)) is False
    assert clean["verdict"] == "GO" and clean["leak_scan"] == {"files": 3, "forms": 40, "findings": []}


def test_log_records_are_masked_when_made_traceback_included() -> None:
    secrets = SecretSet.of([SECRET])
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.WARNING, __file__, 1, "token %s", (SECRET,), sys.exc_info())
    redact_record(record, secrets)
    assert record.getMessage() == f"token {MASK}"
    assert record.exc_text and SECRET not in record.exc_text and MASK in record.exc_text
    untouched = logging.LogRecord("x", logging.INFO, __file__, 1, "count %d", (3,), None)
    redact_record(untouched, secrets)
    assert (untouched.msg, untouched.args) == ("count %d", (3,))


def test_redacting_stream_masks_a_secret_split_over_writes() -> None:
    target = io.StringIO()
    stream = RedactingStream(target, SecretSet.of([SECRET]))
    stream.write("printed " + SECRET[:7])
    stream.write(SECRET[7:] + " done\nnext ")
    assert target.getvalue() == f"printed {MASK} done\n"
    stream.flush()
    assert target.getvalue() == f"printed {MASK} done\nnext "


def test_environment_properties_and_executor_hide_secrets_that_escaping_would_change(tmp_path: Path) -> None:
    from pytest_wimmelgate.artifacts.allure_extras import write_all

    password = "p=ss:W0rd\\x9"  # Java properties escape '=', ':' and '\'
    secrets = SecretSet.collect({"BACKEND_URL": f"https://gate:{password}@api.example"})
    write_all(
        tmp_path,
        properties={"base_url": f"https://gate:{password}@api.example"},
        environ={"CI": "true", "BUILD_URL": f"https://ci.example/?token={password}"},
        secrets=secrets,
    )
    written = (tmp_path / "environment.properties").read_text() + (tmp_path / "executor.json").read_text()
    assert "W0rd" not in written and written.count(MASK) >= 2


def test_without_secrets_the_scan_only_counts_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("anything")
    (tmp_path / "target.lock").write_text("")
    assert LeakScanner(tmp_path, SecretSet()).scan() == LeakScan(files=1, forms=0)


def test_ids_holding_a_secret_get_unique_redacted_display_ids() -> None:
    from typing import cast

    import pytest

    from pytest_wimmelgate.core.redaction import OutputRedaction

    plugin = OutputRedaction(cast(pytest.Config, object()), SecretSet.of(["tok-first-123", "tok-second-456"]))
    first = plugin.display_id("test_a.py::test_login[tok-first-123]")
    second = plugin.display_id("test_a.py::test_login[tok-second-456]")
    assert (first, second) == ("test_a.py::test_login[***]", "test_a.py::test_login[***-2]")
    assert plugin.display_id("test_a.py::test_login[tok-first-123]") == first  # stable within the run
    assert plugin.display_id("test_a.py::test_health") == "test_a.py::test_health"
