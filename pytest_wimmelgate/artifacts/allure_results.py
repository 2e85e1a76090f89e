"""What the Allure results of a gate run say about each check, beyond what allure-pytest writes.

Two moments:

- when a result is written (`shape_result`, called by the redacting logger on every process): the check is
  titled ``"SG-3 · <catalogue title>"`` (with the pytest parameter id where a check repeats), and a failed check
  is ``failed`` whatever exception carried it (allure-pytest calls non-assertion exceptions ``broken``), its
  message prefixed by its category so Allure files it there;
- once on the controller (`finalise`), when every fact of the run is known: the epic labels keep only the
  gates that ran, waived checks carry their waiver (reason and expiry), and checks whose titles would collide
  get their test's name appended.

What is known before the first result is written (the selected gates; after collection, the titles several
selected tests share) travels in a `ResultShape`, so results are written right the first time and `finalise`
rewrites only the few it must (waived checks): rewriting every file doubled the plugin's disk writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_wimmelgate.catalogue.checks import CHECK_MARKER, check_by_id
from pytest_wimmelgate.config.secrets import SecretSet
from pytest_wimmelgate.errors import Category

CHECK_LABEL = "check"
SEPARATOR = " · "
EXCEPTION_PREFIX = re.compile(r"^(?P<type>[A-Za-z_][\w.]*): (?P<text>.*)$", re.S)
VARIANT = re.compile(r"\[(?P<variant>.+)\]$")
FAILED_STATUSES = ("failed", "broken")


@dataclass(frozen=True)
class WaiverFacts:
    """A waiver as the report shows it."""

    reason: str
    until: str | None = None

    @property
    def text(self) -> str:
        return f"waived until {self.until}: {self.reason}" if self.until else f"waived (no expiry): {self.reason}"


@dataclass
class ResultShape:
    """Run facts for `shape_result`: the run's gates (empty: not known yet) and the titles shared by several
    of its tests (`shared_titles`, set once collection is done)."""

    gates: tuple[str, ...] = ()
    shared: frozenset[str] = field(default_factory=frozenset)


def shared_titles(tests: Iterable[tuple[str | None, str, str]]) -> frozenset[str]:
    """Titles that different tests would share, from ``(check id, test name, test function)`` of each test
    (the same function run with several parameters shares its title with nobody)."""
    functions: dict[str, set[str]] = {}
    for check_id, name, function in tests:
        if check_id:
            functions.setdefault(check_title(check_id, name), set()).add(function)
    return frozenset(title for title, found in functions.items() if len(found) > 1)


def test_keys(items: Iterable[Any]) -> list[tuple[str | None, str, str]]:
    """(check id, test name, test function) of collected pytest items, for `shared_titles`."""
    keys: list[tuple[str | None, str, str]] = []
    for item in items:
        marker = item.get_closest_marker(CHECK_MARKER)
        function = getattr(item, "originalname", None)
        parent = item.parent.nodeid if item.parent is not None else ""
        check_id = str(marker.args[0]) if marker and marker.args else None
        keys.append((check_id, item.name, f"{parent}::{function}" if function else item.nodeid))
    return keys


def check_of(result: Mapping[str, Any]) -> str | None:
    """The check id of a result (its ``check`` label), if any."""
    return next((str(label["value"]) for label in result.get("labels", []) if label.get("name") == CHECK_LABEL), None)


def check_title(check_id: str, test_name: str = "") -> str:
    """``"SG-3 · database blocked → /readiness 503 …"``; a parametrised test adds its parameter id."""
    check = check_by_id(check_id)
    title = f"{check_id}{SEPARATOR}{check.title}" if check else check_id
    match = VARIANT.search(test_name)
    variant = match["variant"] if match else None
    return f"{title} [{variant}]" if variant and variant != check_id else title


def categorised(message: str) -> str:
    """A failure message led by its ``[category]`` (the one `core.outcomes.classify` gives the verdict)."""
    if any(f"[{category}]" in message for category in Category):
        match = EXCEPTION_PREFIX.match(message)
        return match["text"] if match and match["text"].startswith("[") else message
    match = EXCEPTION_PREFIX.match(message)
    if match is None:
        return f"[{Category.PRODUCT}] {message}"
    name = match["type"].rsplit(".", 1)[-1]
    category = Category.CONFIG if name == "ConfigError" else Category.PRODUCT
    return f"[{category}] {name}: {match['text']}"


def shape_result(data: dict[str, Any], shape: ResultShape | None = None) -> dict[str, Any]:
    """Title and status of one test result (``*-result.json``) as it is written; with a `ResultShape`, also
    its epics (the run's gates only) and the test's name after a shared title."""
    check_id = check_of(data)
    if check_id:
        data["name"] = check_title(check_id, str(data.get("name", "")))
    if shape is not None:
        _keep_gates_that_ran(data, shape.gates)
        if data.get("name") in shape.shared:
            data["name"] = _with_test_name(data)
    details = data.get("statusDetails") or {}
    if data.get("status") in FAILED_STATUSES:
        data["status"] = "failed"
        details["message"] = categorised(str(details.get("message") or "failed"))
        data["statusDetails"] = details
    elif details.get("message"):
        details["message"] = short_exception_name(str(details["message"]))
    return data


def short_exception_name(message: str) -> str:
    """``pytest_wimmelgate.errors.NotConfigured: …`` → ``NotConfigured: …``."""
    match = EXCEPTION_PREFIX.match(message)
    return f"{match['type'].rsplit('.', 1)[-1]}: {match['text']}" if match and "." in match["type"] else message


def finalise(
    results_dir: Path,
    *,
    gates: Sequence[str],
    waivers: Mapping[str, WaiverFacts],
    secrets: SecretSet,
) -> int:
    """Rewrite the run's ``*-result.json`` with the run's facts; the number of results changed."""
    loaded: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(results_dir.glob("*-result.json")):
        try:
            loaded.append((path, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    collisions = _colliding_names(data for _, data in loaded)
    changed = 0
    for path, data in loaded:
        touched = _keep_gates_that_ran(data, gates)
        check_id = check_of(data)
        if check_id and check_id in waivers:
            before = json.dumps(data, sort_keys=True)
            _carry_waiver(data, waivers[check_id])
            touched = touched or json.dumps(data, sort_keys=True) != before
        if data.get("name") in collisions and not str(data["name"]).endswith(f" ({_test_name(data)})"):
            data["name"] = _with_test_name(data)
            touched = True
        if touched:
            tmp = path.with_suffix(".json.tmp")
            tmp.write_text(secrets.redact_json(data), encoding="utf-8")
            tmp.replace(path)
            changed += 1
    return changed


def _test_name(data: Mapping[str, Any]) -> str:
    return str(data.get("fullName", "")).rsplit("#", 1)[-1].rsplit(".", 1)[-1]


def _with_test_name(data: Mapping[str, Any]) -> str:
    return f"{data['name']} ({_test_name(data)})"


def _keep_gates_that_ran(data: dict[str, Any], gates: Sequence[str]) -> bool:
    """Drop epics of gates that did not run (when one that ran is there); whether anything changed."""
    labels = data.get("labels", [])
    epics = [label for label in labels if label.get("name") == "epic"]
    ran = [label for label in epics if label.get("value") in gates]
    if ran and len(ran) != len(epics):
        data["labels"] = [label for label in labels if label.get("name") != "epic" or label in ran]
        return True
    return False


def _carry_waiver(data: dict[str, Any], waiver: WaiverFacts) -> None:
    parameters = [p for p in data.get("parameters", []) if p.get("name") not in ("waiver", "waiver until")]
    parameters += [
        {"name": "waiver", "value": waiver.reason},
        {"name": "waiver until", "value": waiver.until or "no expiry"},
    ]
    data["parameters"] = parameters
    labels = data.setdefault("labels", [])
    if {"name": "tag", "value": "waived"} not in labels:
        labels.append({"name": "tag", "value": "waived"})
    description = str(data.get("description") or "")
    if not description.startswith("waived"):
        data["description"] = f"{waiver.text} (environment file waiver)\n\n{description}".strip()
    details = data.setdefault("statusDetails", {})
    message = str(details.get("message") or "")
    if not message.startswith("waived"):
        details["message"] = waiver.text + (f" — {message}" if message else "")


def _colliding_names(results: Any) -> set[str]:
    """Titles shared by results of different tests (the same test run twice keeps its title)."""
    tests_by_name: dict[str, set[str]] = {}
    for data in results:
        if check_of(data):
            tests_by_name.setdefault(str(data.get("name")), set()).add(str(data.get("fullName")))
    return {name for name, tests in tests_by_name.items() if len(tests) > 1}
