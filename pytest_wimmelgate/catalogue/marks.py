"""Catalogue facts on test items: gate markers, destructive marker, Allure labels, runbook links.

A test names its check with ``@pytest.mark.check("SG-3")``; everything else an item
carries comes from the catalogue row, so a suite never repeats it. Runbook links point at
the environment's ``runbook_url`` when it is absolute (``https://…``); a relative one (the
default ``docs/runbook.md``) is rendered into the run's report folder, so the links point at
``runbook.html`` next to the report. Titles and statuses are set where results are written
(`artifacts.allure_results`).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from pytest_wimmelgate.artifacts.runbook_page import PAGE as RUNBOOK_PAGE
from pytest_wimmelgate.catalogue import checks as catalogue


def check_meta(item: pytest.Item) -> dict[str, Any]:
    """Check id, gates and severity of a test item, JSON-safe."""
    marker = item.get_closest_marker(catalogue.CHECK_MARKER)
    check_id = str(marker.args[0]) if marker and marker.args else None
    check = catalogue.check_by_id(check_id) if check_id else None
    gates = list(check.gates) if check else [g for g in catalogue.gate_names() if item.get_closest_marker(g)]
    severity = check.severity if check else catalogue.DEFAULT_SEVERITY
    for mark in item.iter_markers("allure_label"):
        if mark.kwargs.get("label_type") == "severity" and mark.args:
            severity = str(getattr(mark.args[0], "value", mark.args[0]))
            break
    return {"id": check_id, "gates": gates, "severity": severity}


def decorate(item: pytest.Item, *, runbook_url: str, strict: bool = True) -> None:
    """Gate markers, destructive marker, Allure labels and runbook link from the catalogue.

    ``strict``: an unknown or missing check id is a usage error (gate runs); collect-only
    runs leave such items alone so that ``wimmelgate catalogue`` can list them.
    """
    marker = item.get_closest_marker(catalogue.CHECK_MARKER)
    if marker is None:
        return
    if not strict and (not marker.args or catalogue.check_by_id(str(marker.args[0])) is None):
        return
    if not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.check needs a check id, e.g. check('SG-3')")
    check_id = str(marker.args[0])
    check = catalogue.check_by_id(check_id)
    if check is None:
        raise pytest.UsageError(
            f"{item.nodeid}: unknown check id {check_id!r} (see `wimmelgate catalogue`; "
            "a project's own checks go into its wimmelgate-catalogue.yaml)"
        )
    has_severity = any(m.kwargs.get("label_type") == "severity" for m in item.iter_markers("allure_label"))
    for mark in _check_marks(check, runbook_url, with_severity=not has_severity):
        item.own_markers.append(mark)
        item.keywords[mark.name] = mark


@functools.lru_cache(maxsize=256)
def _check_marks(check: catalogue.Check, runbook_url: str, *, with_severity: bool) -> tuple[pytest.Mark, ...]:
    """The marks a check's items get, built once per check id."""
    marks = [getattr(pytest.mark, gate) for gate in check.gates]
    if check.destructive:
        marks.append(getattr(pytest.mark, catalogue.DESTRUCTIVE_MARKER))
    marks += [
        pytest.mark.allure_label(*check.gates, label_type="epic"),
        pytest.mark.allure_label(check.area, label_type="feature"),
        pytest.mark.allure_label(check.id, label_type="tag"),
        pytest.mark.allure_label(check.id, label_type="check"),
    ]
    if with_severity:
        marks.append(pytest.mark.allure_label(check.severity, label_type="severity"))
    marks += [
        pytest.mark.allure_link(
            catalogue.runbook_link(report_runbook_base(runbook_url), section),
            link_type="link",
            name=f"Runbook §{section}",
        )
        for section in check.sections
    ]
    return tuple(m.mark for m in marks)


def report_runbook_base(runbook_url: str) -> str:
    """Where the report's runbook links point: an absolute URL as given, else the rendered ``runbook.html``."""
    return runbook_url if runbook_url.startswith(("http://", "https://")) else RUNBOOK_PAGE


class CatalogueMarks:
    """Collect-only runs: gate markers and labels from the catalogue, no run folder."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_itemcollected(self, item: pytest.Item) -> None:
        decorate(item, runbook_url=catalogue.RUNBOOK_URL, strict=False)
