"""Harmless commands stay harmless; bad input is stopped at the door (exit 4, one line, no run folder).

Each test reproduces a finding of the issue "A GO must be earned": `--markers` and
`--fixtures` started the sandbox and wrote release folders; a bad `--wg-watch`, an empty CI
variable, a numeric password or a fault command `true` got past the start; a release dir that
is a file ended in INTERNALERROR after the sandbox had started; an alias bomb hung the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_wimmelgate.config.environment import Environment
from pytest_wimmelgate.config.sections import parse_sections

ROOT = Path(__file__).resolve().parents[2]


def _run(pytester: pytest.Pytester, *args: str, suites: bool = True) -> pytest.RunResult:
    tmp = pytester.path / "tmp"
    tmp.mkdir(exist_ok=True)
    pytester._monkeypatch.setenv("TMPDIR", str(tmp))
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-c",
        str(ROOT / "pyproject.toml"),
        *([str(ROOT / "suites")] if suites else []),
        *args,
        timeout=120,
    )


def _started_nothing(pytester: pytest.Pytester) -> None:
    assert not (pytester.path / "releases").exists(), "a release folder was written"
    assert not list((pytester.path / "tmp").glob("wimmelgate-sandbox-*")), "a sandbox was started"


@pytest.mark.parametrize(
    "args",
    [
        ("--markers",),
        ("--fixtures",),
        ("--co", "-m", "staging_gate"),
        ("--setup-plan", "-m", "staging_gate"),
        ("--fixtures-per-test", "-m", "staging_gate"),
        ("--help",),
        ("--version",),
    ],
    ids=lambda a: a[0],
)
def test_commands_that_run_no_test_start_nothing_and_write_nothing(
    pytester: pytest.Pytester, args: tuple[str, ...]
) -> None:
    result = _run(pytester, *args)
    assert result.ret == 0, result.stdout.str()[-2000:] + result.stderr.str()[-2000:]
    _started_nothing(pytester)
    assert "wimmelgate: run folder" not in result.stdout.str()


def test_markers_lists_every_gate_with_its_description(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.staging_gate: gate - Staging gate T-12h*", "@pytest.mark.destructive:*"])


def test_an_unknown_check_id_is_exit_4_with_no_run_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_mine="import pytest\n@pytest.mark.check('XX-9')\n@pytest.mark.staging_gate\ndef test_x(): pass\n"
    )
    pytester.makefile(".yaml", env="name: bare\n")
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--wg-env", "env.yaml", "--wg-release-dir=rel", "-m", "staging_gate", timeout=60
    )
    assert result.ret == 4
    assert "unknown check id 'XX-9'" in result.stderr.str() + result.stdout.str()
    assert not (pytester.path / "rel").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--wg-watch", "abc"), "ERROR: --wg-watch: expected a duration like 0, 30s, 10m or 1h*"),
        (("--wg-watch-interval=-5s",), "ERROR: --wg-watch-interval: expected a positive duration*"),
        (("--wg-now", "yesterday"), "ERROR: --wg-now*ISO 8601*"),
        (("--wg-approval", "nobody"), "ERROR: --wg-approval*"),
    ],
    ids=["watch", "interval", "now", "approval"],
)
def test_a_bad_option_is_exit_4_with_one_line_before_anything_starts(
    pytester: pytest.Pytester, args: tuple[str, ...], expected: str
) -> None:
    result = _run(pytester, "-m", "post_deploy", *args)
    assert result.ret == 4, result.stdout.str()[-2000:]
    result.stderr.fnmatch_lines([expected])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    _started_nothing(pytester)


def test_an_empty_ci_variable_where_a_url_is_needed_is_exit_4_naming_it(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", env="name: x\nbackend: {base_url: 'http://127.0.0.1:9'}\nlogs: {url: '${LOGS_URL}'}\n")
    pytester._monkeypatch.setenv("LOGS_URL", "")
    result = _run(pytester, "-m", "staging_gate", "-k", "logs", "--wg-env", str(pytester.path / "env.yaml"))
    assert result.ret == 4
    result.stderr.fnmatch_lines(
        ["ERROR: *env.yaml: logs.url: expected a non-empty value, got an empty one (from ${LOGS_URL})"]
    )
    _started_nothing(pytester)


def test_no_error_message_shows_a_variables_value(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", env="name: x\nbackend:\n  base_url: http://127.0.0.1:9\n  timeout_s: ${WG_SECRET_T}\n")
    pytester._monkeypatch.setenv("WG_SECRET_T", "hunter2-not-a-number")
    result = _run(pytester, "-m", "staging_gate", "--wg-env", str(pytester.path / "env.yaml"), suites=True)
    assert result.ret == 4
    out = result.stdout.str() + result.stderr.str()
    assert "backend.timeout_s" in out and "${WG_SECRET_T}" in out
    assert "hunter2" not in out


def _env(tmp_path: Path, text: str, **variables: str) -> Environment:
    from pytest_wimmelgate.config.environment import load

    (tmp_path / "env.yaml").write_text(text)
    return load(str(tmp_path / "env.yaml"), rootdir=tmp_path, environ=variables)


def test_a_placeholder_keeps_the_text_it_resolves_to(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        "name: x\nsmoke_account: {username: u, password: '${PW}'}\n"
        "faults: {provider: command, command: {block: '${BLOCK}', unblock: '${BLOCK}'}}\n",
        PW="12345678",
        BLOCK="true",
    )
    settings = parse_sections(env, ["smoke_account", "faults"])
    assert settings.get("smoke_account").password == "12345678"
    assert settings.get("faults").command["block"] == "true"


def test_a_release_dir_that_is_a_file_is_exit_4_before_anything_starts(pytester: pytest.Pytester) -> None:
    (pytester.path / "afile").write_text("x")
    result = _run(pytester, "-m", "staging_gate", f"--wg-release-dir={pytester.path / 'afile'}")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: --wg-release-dir: a folder (the path * is a file)"])
    _started_nothing(pytester)


@pytest.mark.parametrize("where", ["/proc/wimmelgate-releases", "package"])
def test_a_release_dir_that_cannot_be_written_or_is_inside_the_package_is_exit_4(
    pytester: pytest.Pytester, where: str
) -> None:
    target = str(ROOT / "pytest_wimmelgate" / "releases") if where == "package" else where
    result = _run(pytester, "-m", "staging_gate", f"--wg-release-dir={target}")
    assert result.ret == 4
    assert "ERROR: --wg-release-dir" in result.stderr.str()
    assert not Path(target).exists()
    _started_nothing(pytester)


def test_a_yaml_alias_bomb_is_exit_4(pytester: pytest.Pytester) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        name, prev = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (pytester.path / "bomb.yaml").write_text("name: bomb\n" + "\n".join(lines) + "\n")
    result = _run(pytester, "-m", "staging_gate", "--wg-env", str(pytester.path / "bomb.yaml"))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: *bomb.yaml: line * column *: valid YAML (too many nodes once aliases*"])


def test_the_sections_a_run_reads_are_parsed_before_the_sandbox_starts(pytester: pytest.Pytester) -> None:
    text = (ROOT / "environments" / "sandbox.yaml").read_text() + "\nchangelog: {path: CHANGELOG.md, colour: red}\n"
    (pytester.path / "env.yaml").write_text(text)
    result = _run(pytester, "-m", "preflight", "--wg-env", str(pytester.path / "env.yaml"))
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: *env.yaml: changelog.colour: unknown key 'colour' (expected one of: path)"])
    _started_nothing(pytester)
