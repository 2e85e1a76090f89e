"""Every gate check reads the same way: typed settings → a domain function → ``evidence.judge``.

Read from the suites' source (AST), so that a check written another way fails here, not in
review: every test function with a ``check`` marker ends by judging a result through
``<evidence>.judge(...)`` (once, as its last statement), asserts and raises nothing itself
(except `NotConfigured`), and nothing in ``suites/`` reads the raw environment (``wg_env``,
``os.environ``) or calls a section parser again. Every catalogue check has exactly one such
test. The rules are tested on bad examples too, so that a weakened rule fails.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from pytest_wimmelgate.catalogue import checks as catalogue
from pytest_wimmelgate.config.sections import PARSERS

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
RAW_ENVIRONMENT = frozenset({"wg_env", "raw_env"})
SECTION_PARSERS = frozenset(target.partition(":")[2] for target in PARSERS.values())
#: what a check test may raise itself: the check skips (fail-closed) when its setting is absent
ALLOWED_RAISES = frozenset({"NotConfigured"})
VERDICT_CALLS = frozenset({"fail", "skip", "xfail", "raise_for_failure", "raise_for"})


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _is_check_mark(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _dotted(node.func) in ("pytest.mark.check", "mark.check")


def _ids_of_mark(call: ast.Call, bound: dict[str, list[str]], where: str) -> list[str]:
    """The id(s) of one ``check(...)`` mark: a literal, or a comprehension variable over literals."""
    arg = call.args[0] if call.args else None
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.Name) and arg.id in bound:
        return bound[arg.id]
    raise AssertionError(f"{where}: the check id of a check mark must be readable from the source")


def _marks_in(node: ast.AST, where: str) -> list[str]:
    """Every check id marked inside ``node`` (decorators, ``pytest.param(marks=...)`` lists)."""
    found: list[str] = []
    bound: dict[str, list[str]] = {}
    for sub in ast.walk(node):
        if isinstance(sub, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            for generator in sub.generators:
                if isinstance(generator.target, ast.Name) and isinstance(generator.iter, (ast.Tuple, ast.List)):
                    values = [e.value for e in generator.iter.elts if isinstance(e, ast.Constant)]
                    bound[generator.target.id] = [str(v) for v in values]
    for sub in ast.walk(node):
        if _is_check_mark(sub):
            assert isinstance(sub, ast.Call)
            found.extend(_ids_of_mark(sub, bound, where))
    return found


def check_ids(tree: ast.Module, function: ast.FunctionDef, where: str) -> list[str]:
    """The check ids of a test function: its own marks and those of module-level lists it names."""
    assigned = {
        target.id: stmt.value
        for stmt in tree.body
        if isinstance(stmt, ast.Assign)
        for target in stmt.targets
        if isinstance(target, ast.Name)
    }
    ids: list[str] = []
    for decorator in function.decorator_list:
        ids.extend(_marks_in(decorator, where))
        for name in (n.id for n in ast.walk(decorator) if isinstance(n, ast.Name) and n.id in assigned):
            ids.extend(_marks_in(assigned[name], where))
    return list(dict.fromkeys(ids))


def _judge_calls(function: ast.FunctionDef) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "judge"
    ]


def _evidence_parameters(function: ast.FunctionDef) -> set[str]:
    return {
        arg.arg
        for arg in function.args.args
        if arg.arg == "evidence" or (arg.annotation is not None and _dotted(arg.annotation).endswith("Evidence"))
    }


def pattern_problems(function: ast.FunctionDef, where: str) -> list[str]:
    """How a check test deviates from: get settings → domain function → ``evidence.judge(...)`` last."""
    problems: list[str] = []
    last = function.body[-1]
    evidence = _evidence_parameters(function)
    ends_judged = (
        isinstance(last, ast.Expr)
        and isinstance(last.value, ast.Call)
        and isinstance(last.value.func, ast.Attribute)
        and last.value.func.attr == "judge"
        and _dotted(last.value.func.value) in evidence
    )
    if not ends_judged:
        problems.append(f"{where}: does not end by judging its result (evidence.judge(name, result))")
    if len(_judge_calls(function)) != 1:
        problems.append(f"{where}: judges {len(_judge_calls(function))} times, expected once")
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            problems.append(f"{where}: line {node.lineno}: asserts instead of returning a result")
        elif isinstance(node, ast.Raise):
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if raised is None or _dotted(raised).rpartition(".")[2] not in ALLOWED_RAISES:
                problems.append(f"{where}: line {node.lineno}: raises its own verdict")
        elif isinstance(node, ast.Call) and _dotted(node.func).rpartition(".")[2] in VERDICT_CALLS:
            problems.append(f"{where}: line {node.lineno}: decides its verdict itself ({_dotted(node.func)})")
    return problems


def environment_problems(tree: ast.Module, where: str) -> list[str]:
    """Reads of the raw environment, or a section parsed again, anywhere in a suite module."""
    problems: list[str] = []
    for node in ast.walk(tree):
        name = ""
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.Attribute):
            name = _dotted(node)
        if name in RAW_ENVIRONMENT or name in ("os.environ", "os.getenv", "os.environb"):
            problems.append(f"{where}: line {getattr(node, 'lineno', '?')}: reads the raw environment ({name})")
        if isinstance(node, ast.Call) and _dotted(node.func).rpartition(".")[2] in SECTION_PARSERS:
            problems.append(f"{where}: line {node.lineno}: parses a section again ({_dotted(node.func)})")
    return list(dict.fromkeys(problems))


def _suite_modules() -> list[Path]:
    return sorted(SUITES.glob("*.py"))


def _check_tests() -> dict[str, list[str]]:
    """Check id → the suite test functions marked with it."""
    tests: dict[str, list[str]] = {}
    for path in _suite_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")):
            where = f"{path.name}::{function.name}"
            for check_id in check_ids(tree, function, where):
                tests.setdefault(check_id, []).append(where)
    return tests


def test_every_check_test_in_the_suites_ends_by_judging_its_result() -> None:
    problems: list[str] = []
    judged = 0
    for path in _suite_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")):
            where = f"{path.name}::{function.name}"
            if check_ids(tree, function, where):
                judged += 1
                problems += pattern_problems(function, where)
    assert judged >= 40, f"only {judged} check tests found: the reader of check marks is broken"
    assert problems == []


def test_no_suite_reads_the_raw_environment_or_parses_a_section_again() -> None:
    problems: list[str] = []
    for path in _suite_modules():
        problems += environment_problems(ast.parse(path.read_text(encoding="utf-8")), path.name)
    assert problems == []


def test_every_catalogue_check_has_exactly_one_test_and_every_test_a_catalogue_check() -> None:
    tests = _check_tests()
    catalogue_ids = {check.id for check in catalogue.CHECKS}
    missing = sorted(catalogue_ids - set(tests))
    unknown = sorted(set(tests) - catalogue_ids)
    twice = {check_id: where for check_id, where in tests.items() if len(where) > 1}
    assert (missing, unknown, twice) == ([], [], {})


# --------------------------------------------------------------- the rules catch what they forbid

BAD_CHECKS = """
import os
import pytest

EV = [pytest.param(i, marks=pytest.mark.check(i)) for i in ("EV-1", "EV-2")]

@pytest.mark.check("SG-1")
def test_asserts(backend, evidence):
    answer = backend.health()
    assert answer.status == 200

@pytest.mark.check("SG-2")
def test_raises_its_own_verdict(wg_env, evidence):
    result = check(wg_env.get("backend.base_url"))
    evidence.json("x", result.evidence())
    result.raise_for_failure()

@pytest.mark.check("SG-3")
def test_judges_then_does_more(settings, evidence: Evidence):
    evidence.judge("x", check(settings))
    pytest.skip("done")

@pytest.mark.parametrize("check_id", EV)
def test_reads_os_environ(check_id, evidence):
    evidence.judge(check_id, check(os.environ["X"], parse_calendar({}, "f")))

def test_not_a_check():
    assert True
"""


def _bad() -> tuple[ast.Module, dict[str, ast.FunctionDef]]:
    tree = ast.parse(BAD_CHECKS)
    return tree, {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def test_the_check_marks_are_read_from_decorators_and_parametrize_lists() -> None:
    tree, functions = _bad()
    assert check_ids(tree, functions["test_asserts"], "x") == ["SG-1"]
    assert check_ids(tree, functions["test_reads_os_environ"], "x") == ["EV-1", "EV-2"]
    assert check_ids(tree, functions["test_not_a_check"], "x") == []


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        ("test_asserts", ["does not end by judging", "judges 0 times", "asserts instead"]),
        ("test_raises_its_own_verdict", ["does not end by judging", "judges 0 times", "decides its verdict"]),
        ("test_judges_then_does_more", ["does not end by judging", "decides its verdict itself (pytest.skip)"]),
    ],
)
def test_a_check_written_another_way_is_named(function: str, expected: list[str]) -> None:
    _, functions = _bad()
    problems = pattern_problems(functions[function], function)
    assert len(problems) == len(expected), problems
    for problem, wanted in zip(problems, expected, strict=True):
        assert wanted in problem, problems


def test_a_raw_environment_read_and_a_second_parse_are_named() -> None:
    tree, _ = _bad()
    problems = environment_problems(tree, "bad.py")
    kinds = Counter(p.split(": ", 2)[2].split(" (")[0] for p in problems)
    assert kinds == {"reads the raw environment": 3, "parses a section again": 1}, problems
    assert any("(wg_env)" in p for p in problems) and any("(os.environ)" in p for p in problems)
    assert any("(parse_calendar)" in p for p in problems)


def test_the_readme_example_of_adding_a_check_follows_the_pattern() -> None:
    import inspect
    import re

    from pytest_wimmelgate.domain import observability

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Adding a check", 1)[1].split("\n## ", 1)[0]
    [code] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    tree = ast.parse(inspect.cleandoc("\n" + code))
    [function] = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert check_ids(tree, function, "README") == ["PD-6"]
    assert pattern_problems(function, "README") == [] and environment_problems(tree, "README") == []
    assert "check_id" in inspect.signature(observability.check_dashboards).parameters
