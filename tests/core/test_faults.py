"""A blocked dependency is always unblocked: on success, on failure and on Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError
from pytest_wimmelgate.faults import FaultProvider, blocked, make_provider


def _provider(tmp_path: Path) -> FaultProvider:
    flag = tmp_path / "blocked-{target}"
    return make_provider(
        {"provider": "command", "command": {"block": f"touch {flag}", "unblock": f"rm {flag}"}},
        source="env.yaml",
        sandbox_info=None,
    )


@pytest.mark.parametrize("interruption", [None, CheckFailed, KeyboardInterrupt])
def test_the_fault_is_lifted_whatever_happens_inside(tmp_path: Path, interruption: type[BaseException] | None) -> None:
    provider = _provider(tmp_path)
    flag = tmp_path / "blocked-database"
    try:
        with blocked(provider, "database"):
            assert flag.exists()
            if interruption is CheckFailed:
                raise CheckFailed(Category.PRODUCT, "readiness still 200")
            if interruption is KeyboardInterrupt:
                raise KeyboardInterrupt
    except (CheckFailed, KeyboardInterrupt):
        pass
    assert not flag.exists()


def test_unknown_provider_and_missing_commands_are_configuration_errors() -> None:
    with pytest.raises(ConfigError, match=r"faults\.provider: one of sandbox, command, http"):
        make_provider({"provider": "chaos"}, source="env.yaml", sandbox_info=None)
    with pytest.raises(ConfigError, match=r"faults\.command\.unblock: a shell command"):
        make_provider({"provider": "command", "command": {"block": "true"}}, source="env.yaml", sandbox_info=None)
    with pytest.raises(ConfigError, match="'sandbox' needs a sandbox"):
        make_provider({"provider": "sandbox"}, source="env.yaml", sandbox_info=None)
