"""The catalogue as data: the shipped ``wimmelwelt.yaml``, strict validation of every catalogue file (exit 4 naming
the file and key path), and where a project's catalogue file is found (CLI > env var > ini > default)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.catalogue import loading
from pytest_wimmelgate.config import yamlfile
from pytest_wimmelgate.config.sections import PARSERS
from pytest_wimmelgate.errors import ConfigError

BUILTIN = "pytest_wimmelgate/catalogue/wimmelwelt.yaml"
TEAM = """
runbook_headings:
  "T.1": "T.1 Team checks"
gates:
  team_gate: {description: "Our own release checks", sections: ["T.1"]}
checks:
  TEAM-1: {title: "health within budget", gates: [staging_gate, team_gate], sections: ["T.1"], uses: [backend]}
"""


def test_the_shipped_catalogue_holds_the_runbooks_48_checks_in_11_gates() -> None:
    shipped = catalogue.builtin()
    assert len(shipped.checks) == 48 and len(shipped.gates) == 11
    assert shipped.sources == (BUILTIN,)
    assert shipped.gate_names()[:3] == ("preflight", "env_check", "staging_gate")
    sg3 = shipped.check_by_id("SG-3")
    assert sg3 is not None and sg3.destructive and sg3.uses == ("backend", "faults") and sg3.gates == ("staging_gate",)
    dr4 = shipped.check_by_id("DR-4")
    assert dr4 is not None and dr4.uses == ("backend", "faults", "smoke_account")
    assert {c.severity for c in shipped.checks} == {"critical"}
    assert [c.id for c in shipped.checks_of(["prod_smoke"])] == ["SG-1", "SG-2", "SG-4", "SG-5", "SG-6", "GL-4", "PS-1"]
    for check in shipped.checks:
        assert set(check.gates) <= set(shipped.gate_names()), check.id
        assert set(check.uses) <= set(PARSERS), check.id
        assert check.sections and all(s in shipped.headings for s in check.sections), check.id


def test_the_shipped_file_passes_the_strict_loader_too() -> None:
    """The shipped file is read through libyaml for speed; the plugin's strict loader (duplicate keys, aliases)
    reads it to the same catalogue."""
    text = resources.files("pytest_wimmelgate").joinpath("catalogue/wimmelwelt.yaml").read_text(encoding="utf-8")
    strict = loading.parse(yamlfile.load(text), BUILTIN, base=None)
    assert strict.checks == catalogue.builtin().checks and strict.gates == catalogue.builtin().gates
    assert dict(strict.headings) == dict(catalogue.builtin().headings)


def test_the_module_api_reads_the_active_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(TEAM)
    team = loading.load_file(path, "team.yaml", catalogue.builtin())
    assert catalogue.check_by_id("TEAM-1") is None
    deactivate = catalogue.activate(team)
    try:
        assert [c.id for c in catalogue.CHECKS][-1] == "TEAM-1" and catalogue.GATES[-1].name == "team_gate"
        assert catalogue.gate_names()[-1] == "team_gate"
        assert catalogue.runbook_link("docs/runbook.md", "T.1") == "docs/runbook.md#t1-team-checks"
        team_check = catalogue.check_by_id("TEAM-1")
        assert team_check is not None and team_check.source == "team.yaml" and team_check.area == "team"
    finally:
        deactivate()
    assert catalogue.check_by_id("TEAM-1") is None and len(catalogue.CHECKS) == 48


def _check(body: str) -> str:
    return f"checks:\n  TEAM-1: {{{body}}}\n"


BAD_FILES = [
    ("- a list\n", "(top level): expected a mapping, got a list"),
    ("check: {}\n", "check: unknown key 'check' (expected one of: checks, gates, runbook_headings)"),
    (_check("gates: [staging_gate]"), "checks.TEAM-1.title: expected a value (the key is missing)"),
    (_check("title: t"), "checks.TEAM-1.gates: expected a value (the key is missing)"),
    (_check("title: t, gates: []"), "checks.TEAM-1.gates: expected at least one gate"),
    (_check("title: t, gates: staging_gate"), "checks.TEAM-1.gates: expected a list of names, got a text"),
    (_check("title: t, gates: [staging_gate, staging_gate]"), "checks.TEAM-1.gates[1]: expected each name once"),
    (_check("title: t, gates: [staging_gate, team_gate]"), "checks.TEAM-1.gates[1]: expected a known gate (one of:"),
    (_check("title: t, gates: [staging_gate], gate: x"), "checks.TEAM-1.gate: unknown key 'gate' (expected one of:"),
    (_check("title: '', gates: [staging_gate]"), "checks.TEAM-1.title: expected a non-empty text, got an empty text"),
    (_check("title: t, gates: [staging_gate], uses: [backendd]"), "checks.TEAM-1.uses[0]: expected an environment"),
    (_check("title: t, gates: [staging_gate], severity: high"), "checks.TEAM-1.severity: expected one of blocker,"),
    (_check("title: t, gates: [staging_gate], destructive: 'yes'"), "checks.TEAM-1.destructive: expected true or"),
    (_check("title: t, gates: [staging_gate], sections: [2.10]"), "checks.TEAM-1.sections[0]: expected a runbook sec"),
    (_check("title: t, gates: [staging_gate], area: [a]"), "checks.TEAM-1.area: expected a non-empty text, got a list"),
    ("checks:\n  TEAM 1: {title: t, gates: [staging_gate]}\n", "checks.TEAM 1: expected a check id of letters"),
    ("checks:\n  TEAM-1: a title\n", "checks.TEAM-1: expected a mapping, got a text"),
    (
        "checks:\n  SG-1: {title: t, gates: [staging_gate]}\n",
        f"checks.SG-1: expected a new check id (it is already a check of the built-in catalogue ({BUILTIN}))",
    ),
    ("gates:\n  staging_gate: {description: d}\n", "gates.staging_gate: expected a new gate name (it is already"),
    ("gates:\n  check: {description: d}\n", "gates.check: expected another gate name ('check' is a marker of pytest"),
    ("gates:\n  Team-Gate: {description: d}\n", "gates.Team-Gate: expected a gate name of lower-case letters"),
    ("gates:\n  team_gate: {sections: ['1']}\n", "gates.team_gate.description: expected a value (the key is missing)"),
    ("gates:\n  team_gate: {description: d}\n", "gates.team_gate: expected a check in this gate (no check of this"),
    ('runbook_headings:\n  "2.2": "mine"\n', "runbook_headings.2.2: expected a new section (it already has a heading"),
    (
        "checks:\n  TEAM-1: {title: t, gates: [staging_gate]}\n  TEAM-1: {title: u, gates: [staging_gate]}\n",
        "line 3 column 3: valid YAML (found duplicate key 'TEAM-1')",
    ),
    ("checks: [\n", "line 2 column 1: valid YAML ("),  # the parser words the problem (libyaml or PyYAML)
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES, ids=[m.split(": ")[0] for _, m in BAD_FILES])
def test_a_mistake_in_a_catalogue_file_names_the_file_and_key_path(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "wimmelgate-catalogue.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        loading.load_file(path, "wimmelgate-catalogue.yaml", catalogue.builtin())
    assert str(raised.value).startswith("wimmelgate-catalogue.yaml: " + message), str(raised.value)


def test_the_shipped_catalogue_is_validated_as_strictly() -> None:
    document = yamlfile.load(
        resources.files("pytest_wimmelgate").joinpath("catalogue/wimmelwelt.yaml").read_text(encoding="utf-8")
    )
    document["checks"]["SG-3"]["destructive"] = "sometimes"
    with pytest.raises(ConfigError, match=rf"^{BUILTIN}: checks\.SG-3\.destructive: expected true or false$"):
        loading.parse(document, BUILTIN, base=None)


def test_an_empty_project_file_adds_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing yet\n")
    loaded = loading.load_file(path, "empty.yaml", catalogue.builtin())
    assert loaded.checks == catalogue.builtin().checks and loaded.sources == (BUILTIN, "empty.yaml")


# -- through pytest: exit 4, and where the file is found ---------------------------------------------------------


def _team_file(folder: Path, name: str, gate: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"gates:\n  {gate}: {{description: from {name}}}\nchecks:\n  {gate.upper()}-1: {{title: t, gates: [{gate}]}}\n"
    )
    return path


def test_a_bad_project_catalogue_is_exit_4_with_file_and_key_path(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"wimmelgate-catalogue": "checks:\n  TEAM-1: {title: t, gates: [nightly]}\n"})
    pytester.makepyfile("def test_x(): pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 4
    errors = result.stderr.str()
    assert "ERROR: wimmelgate-catalogue.yaml: checks.TEAM-1.gates[0]: expected a known gate (one of: alert" in errors
    assert "Traceback" not in errors


def test_a_named_catalogue_file_must_exist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--wg-catalogue=missing.yaml")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*missing.yaml: expected a catalogue file (named by --wg-catalogue; the file does*"])


def test_the_catalogue_file_resolves_cli_over_env_over_ini_over_default(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team_file(pytester.path, "wimmelgate-catalogue.yaml", "gate_default")
    _team_file(pytester.path, "conf/ini.yaml", "gate_ini")
    _team_file(pytester.path, "env.yaml", "gate_env")
    _team_file(pytester.path, "cli.yaml", "gate_cli")

    def gate_markers(*args: str) -> list[str]:
        result = pytester.runpytest("-p", "no:cacheprovider", "--markers", *args)
        assert result.ret == 0, result.stderr.str()
        lines = [line for line in result.outlines if ": gate - from " in line]
        return [line.split(":")[0].removeprefix("@pytest.mark.") for line in lines]

    assert gate_markers() == ["gate_default"]
    pytester.makeini("[pytest]\nwg_catalogue = conf/ini.yaml\n")  # relative to the ini file's folder
    assert gate_markers() == ["gate_ini"]
    monkeypatch.setenv("WIMMELGATE_CATALOGUE", "env.yaml")
    assert gate_markers() == ["gate_env"]
    assert gate_markers("--wg-catalogue=cli.yaml") == ["gate_cli"]
