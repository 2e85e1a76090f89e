"""Checking a whole contract before any check runs: required steps, names, flows.

A template may name a run value (`model.RUN_VALUES`) or a value captured by a step that
runs before it in the checks' flows (`PRECEDING`): ``message_read`` may use what
``login`` and ``message_create`` capture. A step a check needs and a flow that is only
partly described are errors too. Each error is one `ConfigError` with its key path.
"""

from __future__ import annotations

from collections.abc import Iterable

from pytest_wimmelgate.contract.model import RUN_VALUES, BackendSettings, Step
from pytest_wimmelgate.errors import ConfigError

AUTH = ("signup", "login")
#: the steps that run before a step in the checks' flows (unlisted steps: after the login)
PRECEDING: dict[str, tuple[str, ...]] = {
    "signup": (),
    "login": ("signup",),
    "message_read": (*AUTH, "message_create"),
    "message_delete": (*AUTH, "message_create"),
    "upload_read": (*AUTH, "upload_create"),
    "upload_delete": (*AUTH, "upload_create"),
    "push_status": (*AUTH, "push_send"),
    "push_delete": (*AUTH, "push_send"),
}
#: flows a check runs; a contract describes each completely or not at all
FLOWS: dict[str, tuple[str, ...]] = {
    "messaging (SG-5, DR-3)": ("message_create", "message_read", "message_delete"),
    "upload (SG-6, DR-4)": ("upload_create", "upload_read", "upload_delete"),
}
REQUIRED = {"login": "every smoke check logs in with it", "me": "SG-4 proves a token works with it"}
#: captures a flow reads by name
REQUIRED_CAPTURES = {"message_read": "message_text", "login": "token"}


def check_contract(settings: BackendSettings) -> None:
    """Raise `ConfigError` for the first problem of the parsed backend settings."""
    source, steps = settings.source, settings.contract.steps
    for name, why in (
        *REQUIRED.items(),
        (settings.health.request, "SG-1 reads the health answer from it (backend.health.request)"),
        (settings.version, "SG-1 and RV-1 read version and commit from it (backend.version.request)"),
        (settings.readiness.request, "SG-2 and SG-3 judge readiness by it (backend.readiness.request)"),
    ):
        if name not in steps:
            raise ConfigError(source, f"backend.contract.{name}", f"expected this step: {why}")
    for flow, names in FLOWS.items():
        present = [n for n in names if n in steps]
        if present and len(present) < len(names):
            missing = next(n for n in names if n not in steps)
            raise ConfigError(
                source, f"backend.contract.{missing}", f"expected this step: the {flow} flow needs {', '.join(names)}"
            )
    readiness = steps[settings.readiness.request]
    if not readiness.touches_database:
        raise ConfigError(
            source,
            "backend.readiness.request",
            "expected a step marked touches_database: true (SG-3 blocks the database and watches it)",
        )
    for step_name, capture in REQUIRED_CAPTURES.items():
        step = steps.get(step_name)
        if step is not None and capture not in {c.name for c in step.captures}:
            raise ConfigError(source, f"backend.contract.{step_name}.captures", f"expected a capture named {capture!r}")
    _check_headers(settings)
    delivery = settings.push.delivery_request
    if delivery is not None and delivery not in steps:
        raise ConfigError(source, "backend.push.delivery.request", "expected the name of a step of backend.contract")
    if delivery is not None and "push_send" not in steps:
        raise ConfigError(source, "backend.contract.push_send", "expected this step: SG-7 sends the test push with it")
    for step in steps.values():
        _check_names(settings, step, visible_before(settings, step.name))
    _check_sweep(settings)


def captured_by(settings: BackendSettings, names: Iterable[str]) -> set[str]:
    steps = settings.contract.steps
    return {c.name for n in names if n in steps for c in steps[n].captures}


def visible_before(settings: BackendSettings, name: str) -> set[str]:
    """Captured names a step may use: those of the steps before it in the checks' flows."""
    before = PRECEDING.get(name)
    if before is None:
        before = (*AUTH, "push_send") if name == settings.push.delivery_request else AUTH
    return captured_by(settings, before)


def _check_headers(settings: BackendSettings) -> None:
    source = settings.source
    for header, template in settings.contract.headers.items():
        for name in template.names:
            if name not in RUN_VALUES:
                raise ConfigError(
                    source, f"backend.headers.{header}", f"expected run values only ({name!r} is no run value)"
                )
    session_values = captured_by(settings, AUTH)
    for header, template in settings.contract.session_headers.items():
        for name in template.names:
            if name not in session_values and name not in RUN_VALUES:
                raise ConfigError(
                    source,
                    f"backend.session_headers.{header}",
                    f"expected values the login captures ({name!r} is captured by neither signup nor login)",
                )
    if any(s.session for s in settings.contract.steps.values()) and not settings.contract.session_headers:
        raise ConfigError(
            source, "backend.session_headers", "expected the header(s) that carry the session token (steps use session)"
        )


def _check_names(settings: BackendSettings, step: Step, visible: set[str], extra: Iterable[str] = ()) -> None:
    allowed = visible | set(extra)
    for key, names in _names_by_key(step):
        for name in names:
            if "." in name:
                if name not in RUN_VALUES:
                    raise ConfigError(
                        settings.source,
                        f"backend.contract.{step.name}.{key}",
                        f"bad template: unknown run value {name!r} (known: {', '.join(sorted(RUN_VALUES))})",
                    )
            elif name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise ConfigError(
                    settings.source,
                    f"backend.contract.{step.name}.{key}",
                    f"unknown captured name {name!r}: no step before {step.name} captures it "
                    f"(captured before: {known})",
                )


def _names_by_key(step: Step) -> list[tuple[str, tuple[str, ...]]]:
    found: list[tuple[str, tuple[str, ...]]] = [("path", step.path.names)]
    found.extend((f"headers.{k}", t.names) for k, t in step.headers.items())
    found.extend((f"query.{k}", t.names) for k, t in step.query.items())
    if step.body.kind != "none":
        found.append((step.body.kind, step.body.names))
    return found


def _check_sweep(settings: BackendSettings) -> None:
    steps = settings.contract.steps
    for index, entry in enumerate(settings.sweep):
        where = f"backend.sweep[{index}]"
        for key, name in (("list", entry.list), ("list_all", entry.list_all), ("delete", entry.delete)):
            if name is not None and name not in steps:
                raise ConfigError(settings.source, f"{where}.{key}", "expected the name of a step of backend.contract")
        for key, name in (("list", entry.list), ("list_all", entry.list_all)):
            if name is not None and entry.ids not in {c.name for c in steps[name].captures}:
                raise ConfigError(settings.source, f"{where}.ids", f"expected a capture of the {key} step")
        delete = steps[entry.delete]
        if entry.bind not in delete.names:
            raise ConfigError(settings.source, f"{where}.as", "expected a name the delete step's templates use")
