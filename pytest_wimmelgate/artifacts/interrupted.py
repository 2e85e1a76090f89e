"""Checks that did not finish are "interrupted" in JUnit and Allure too, never passed or missing.

When a run is stopped in the middle of a check (Ctrl-C, SIGTERM), pytest's junitxml leaves
an unnamed ``<testcase>`` behind and allure-pytest writes no result for the check. The
summary already says "interrupted"; these functions make the other two outputs agree:
the JUnit test case gets its name and an ``<error>``, Allure gets a result with status
``unknown`` and the reason.
"""

from __future__ import annotations

import json
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from pytest_wimmelgate.core.verdict import CheckRecord

REASON = "interrupted: the check did not finish"


def _names(nodeid: str) -> tuple[str, str]:
    """junitxml's classname and name of a node id (``suites/test_x.py::Class::test_y[p]``)."""
    path, _, rest = nodeid.partition("::")
    parts = rest.split("::") if rest else [""]
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *parts[:-1]]), parts[-1]


def mark_junit(junit: Path, interrupted: Sequence[CheckRecord]) -> None:
    """Name the interrupted test cases in ``junit`` and give each an ``<error>``."""
    if not interrupted or not junit.is_file():
        return
    tree = ET.parse(junit)
    suite = tree.getroot().find("testsuite") if tree.getroot().tag == "testsuites" else tree.getroot()
    if suite is None:
        return
    unnamed = [case for case in suite.iter("testcase") if not case.get("name")]
    for record in interrupted:
        classname, name = _names(record.nodeid)
        case = next(
            (c for c in suite.iter("testcase") if (c.get("classname"), c.get("name")) == (classname, name)), None
        )
        if case is None:
            case = unnamed.pop(0) if unnamed else ET.SubElement(suite, "testcase")
        case.set("classname", classname)
        case.set("name", name)
        case.set("time", case.get("time") or f"{record.duration_s:.3f}")
        if case.find("error") is None and case.find("failure") is None:
            ET.SubElement(case, "error", message=record.reason or REASON)
    errors = sum(1 for case in suite.iter("testcase") if case.find("error") is not None)
    suite.set("errors", str(errors))
    suite.set("tests", str(sum(1 for _ in suite.iter("testcase"))))
    tree.write(junit, encoding="utf-8", xml_declaration=True)


def mark_allure(results: Path, interrupted: Sequence[CheckRecord]) -> None:
    """Give each interrupted check's Allure result status ``unknown`` and the reason (written if missing).

    allure-pytest records a check stopped by Ctrl-C as passed; that result is rewritten.
    """
    if not interrupted or not results.is_dir():
        return
    wanted = {"#".join(_names(r.nodeid)): r for r in interrupted}
    present: set[str] = set()
    for path in results.glob("*-result.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        full_name = str(data.get("fullName", ""))
        record = wanted.get(full_name)
        if record is None:
            continue
        present.add(full_name)
        if data.get("status") not in ("failed", "broken"):
            data["status"] = "unknown"
            data["statusDetails"] = {"message": record.reason or REASON}
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    now = int(time.time() * 1000)
    for full_name, record in wanted.items():
        if full_name in present:
            continue
        classname, _, name = full_name.partition("#")
        labels = [{"name": "framework", "value": "pytest"}, {"name": "suite", "value": classname}]
        if record.id:
            labels += [{"name": "check", "value": record.id}, {"name": "tag", "value": record.id}]
        labels += [{"name": "epic", "value": gate} for gate in record.gates]
        result = {
            "uuid": str(uuid.uuid4()),
            "name": f"{record.id} · {name}" if record.id else name,
            "fullName": full_name,
            "status": "unknown",
            "statusDetails": {"message": record.reason or REASON},
            "stage": "interrupted",
            "start": now - int(record.duration_s * 1000),
            "stop": now,
            "labels": labels,
        }
        (results / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
