"""Environment files: selection, interpolation, and every kind of bad file gives exit 4."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import load
from pytest_wimmelgate.config.sections import parser_of
from pytest_wimmelgate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CHECK = """
import pytest
@pytest.mark.check("SG-1")
def test_health(wg_env): assert wg_env.get("backend.base_url")
"""


def bad_run(pytester: pytest.Pytester, text: str, *extra: str) -> pytest.RunResult:
    pytester.makefile(".yaml", env=text)
    pytester.makepyfile(CHECK)
    return pytester.runpytest(
        "-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir", "rel", "-m", "staging_gate", *extra
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\nbackend: [unclosed\n", "*env.yaml: line * column *: valid YAML*"),
        ("name: x\nbakend: {base_url: http://a}\n", "*env.yaml: (top level): unknown key 'bakend'*"),
        (
            "name: x\nbackend: {base_url: http://a, timeout_s: soon}\n",
            "*env.yaml: backend.timeout_s: expected number, got str*",
        ),
        ("name: x\nwaivers: [{id: SG-9}]\n", "*env.yaml: waivers?0?: expected 'reason' is a required property*"),
        (
            "name: x\nbackend: {base_url: '${WG_TEST_UNSET_URL}'}\n",
            "*env.yaml: backend.base_url: variable ${WG_TEST_UNSET_URL} is not set*",
        ),
        ("name: x\nextends: missing.yaml\n", "*env.yaml: extends: an existing file (not found: missing.yaml)*"),
        ("- a list\n", "*env.yaml: a mapping at top level, got list*"),
        (
            "name: x\nmetrics: {timeout_s: 1}\nmetrics: {timeout_s: 2}\n",
            "*env.yaml: line 3 column 1: valid YAML (found duplicate key 'metrics')*",
        ),
    ],
)
def test_bad_file_ends_the_run_with_exit_4_and_one_line(pytester: pytest.Pytester, text: str, expected: str) -> None:
    result = bad_run(pytester, text)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: {expected}"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert not (pytester.path / "rel").exists()


def test_missing_file_names_the_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(CHECK)
    result = pytester.runpytest("-p", "no:cacheprovider", "--wg-env", "nowhere", "-m", "staging_gate")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: environments/nowhere.yaml: file not found*"])


def test_unresolved_variable_outside_the_selection_is_not_needed(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", env="name: x\nbackend: {base_url: '${WG_TEST_UNSET_URL}'}\n")
    pytester.makepyfile("""
        import pytest
        @pytest.mark.check("CW-1")
        def test_window(): pass
        @pytest.mark.check("CW-2")
        def test_freeze(): pass
    """)
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir", "rel", "-m", "change_window"
    )
    assert result.ret == 0


def test_extends_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "base.yaml").write_text(
        "name: base\nbackend:\n  base_url: ${WG_URL:-http://default}\n  timeout_s: ${WG_T:-2}\n"
    )
    (tmp_path / "child.yaml").write_text("extends: base.yaml\nname: child\nprotected: true\n")
    monkeypatch.setenv("WG_T", "3.5")
    env = load(str(tmp_path / "child.yaml"), rootdir=tmp_path)
    assert (env.name, env.protected) == ("child", True)
    assert env.get("backend.base_url") == "http://default"
    assert env.get("backend.timeout_s") == "3.5"  # a placeholder keeps its text; the section parser types it
    assert parser_of("backend")(env.get("backend"), env.source).timeout_s == 3.5


def test_extends_cycle_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ConfigError, match="extends: no cycle"):
        load(str(tmp_path / "a.yaml"), rootdir=tmp_path)


@pytest.mark.parametrize("name", ["sandbox", "staging", "production"])
def test_shipped_environment_files_are_valid(name: str) -> None:
    env = load(name, rootdir=ROOT)
    assert env.name == name
    assert env.protected is (name == "production")


def test_environment_chosen_by_variable_is_shown_in_the_header(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makefile(".yaml", env="name: qa\n")
    pytester.makepyfile("""
        import pytest
        @pytest.mark.check("CW-1")
        def test_window(): pass
        @pytest.mark.check("CW-2")
        def test_freeze(): pass
    """)
    monkeypatch.setenv("WIMMELGATE_ENV", "env.yaml")
    result = pytester.runpytest("-p", "no:cacheprovider", "--wg-release-dir", "rel", "-m", "change_window")
    result.stdout.fnmatch_lines(["wimmelgate: environment qa from env.yaml (WIMMELGATE_ENV)*"])
