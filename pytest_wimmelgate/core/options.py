"""The plugin's options: one table, each resolved once as CLI > env var > ini > default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Setting:
    option: str
    env: str | None
    ini: str | None
    default: Any
    help: str
    action: str = "store"
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "--wg-env",
        "WIMMELGATE_ENV",
        "wg_env",
        "sandbox",
        "environment file: NAME (environments/NAME.yaml) or PATH; default sandbox",
    ),
    Setting(
        "--wg-release-dir",
        "WIMMELGATE_RELEASE_DIR",
        "wg_release_dir",
        "releases",
        "root of the release folder; default releases",
    ),
    Setting(
        "--wg-version",
        "WIMMELGATE_VERSION",
        "wg_version",
        None,
        "artifact version under test (fallbacks: CI tag, /health, 'unversioned')",
    ),
    Setting(
        "--wg-commit",
        "WIMMELGATE_COMMIT",
        "wg_commit",
        None,
        "commit under test (fallbacks: CI variables, git rev-parse HEAD)",
    ),
    Setting(
        "--wg-now",
        "WIMMELGATE_NOW",
        "wg_now",
        None,
        "ISO 8601 clock for calendar and age checks (dry runs); default now",
    ),
    Setting("--wg-tester", "WIMMELGATE_TESTER", "wg_tester", None, "who ran the gate (fallbacks: CI actor, OS user)"),
    Setting(
        "--wg-env-file",
        "WIMMELGATE_ENV_FILE",
        "wg_env_file",
        None,
        "dotenv file with the target environment's variables for env_check",
    ),
    Setting(
        "--wg-report",
        "WIMMELGATE_REPORT",
        "wg_report",
        "auto",
        "single-file Allure report in the run folder: auto, off or required",
        choices=("auto", "off", "required"),
    ),
    Setting(
        "--wg-watch",
        "WIMMELGATE_WATCH",
        "wg_watch",
        None,
        "watch metric gates for this long (e.g. 30m after go-live, 10m per traffic step); "
        "default: the environment's metrics.watch.duration, else one measurement",
    ),
    Setting(
        "--wg-watch-interval",
        "WIMMELGATE_WATCH_INTERVAL",
        "wg_watch_interval",
        None,
        "interval between measurements while watching; default metrics.watch.interval, else 30s",
    ),
    Setting(
        "--wg-catalogue",
        "WIMMELGATE_CATALOGUE",
        "wg_catalogue",
        None,
        "the project's own catalogue file (checks and gates); default wimmelgate-catalogue.yaml in the rootdir",
    ),
    Setting(
        "--wg-approval",
        None,
        None,
        [],
        "ROLE:NAME approval (repeatable): product-owner, release-captain, on-call, incident",
        action="append",
    ),
    Setting(
        "--wg-allow-destructive",
        None,
        None,
        False,
        "allow destructive checks on a protected environment",
        action="store_true",
    ),
)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("wimmelgate", "release gates (pytest-wimmelgate)")
    for setting in SETTINGS:
        env_note = f" [env {setting.env}]" if setting.env else ""
        kwargs: dict[str, Any] = {"dest": setting.dest, "help": setting.help + env_note}
        if setting.action == "store_true":
            kwargs.update(action="store_true", default=False)
        elif setting.action == "append":
            kwargs.update(action="append", default=[], metavar="ROLE:NAME")
        else:
            kwargs.update(action="store", default=None, metavar=setting.dest.upper()[3:])
            if setting.choices:
                kwargs["choices"] = setting.choices
        group.addoption(setting.option, **kwargs)
        if setting.ini:
            parser.addini(setting.ini, setting.help, default=None)


def resolve(config: pytest.Config, dest: str, environ: dict[str, str]) -> tuple[Any, str]:
    """The value of one setting and where it came from (for the report header)."""
    setting = next(s for s in SETTINGS if s.dest == dest)
    value = config.getoption(setting.dest)
    if value not in (None, [], False):
        return value, setting.option
    if setting.env and environ.get(setting.env):
        value = environ[setting.env]
        if setting.choices and value not in setting.choices:
            raise pytest.UsageError(f"{setting.env}={value!r}: expected one of {', '.join(setting.choices)}")
        return value, setting.env
    if setting.ini:
        ini_value = config.getini(setting.ini)
        if ini_value:
            return ini_value, f"ini {setting.ini}"
    return setting.default, "default"


PATH_OPTIONS = ("--wg-env", "--wg-release-dir", "--wg-env-file", "--wg-catalogue")


def check_rootdir_not_taken(config: pytest.Config) -> None:
    """Refuse a run whose rootdir pytest took from one of our option values.

    pytest decides its rootdir before plugin options are known, so the value of
    ``--wg-release-dir /abs/dir`` (two tokens) counts as a test path; when it lies outside
    the project, the project's configuration is lost and everything under the working
    directory is collected. ``--wg-release-dir=/abs/dir`` is immune.
    """
    import itertools
    import os
    from pathlib import Path

    tokens = list(config.invocation_params.args)
    for option, value in itertools.pairwise(tokens):
        if option not in PATH_OPTIONS or not os.path.exists(value):
            continue
        path = Path(value).resolve()
        if config.rootpath in (path, path.parent) and config.rootpath != Path.cwd().resolve():
            raise pytest.UsageError(
                f"{option} {value}: pytest took this value for a test path and made {config.rootpath} its "
                f"rootdir; write {option}={value}"
            )
