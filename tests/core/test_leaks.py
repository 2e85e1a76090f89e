"""A gate that leaks seeded secrets in every form of issue 16 leaves no trace anywhere.

The inner gate handles secrets the way real smoke tests do and leaks each of them on
purpose: Basic auth built from two secrets, base64 of one secret, a token as a
parametrize id, URL-encoding variants, JSON-escaped bodies (a multi-line key, a value
with ``"`` and ``\\``), live logs, plain prints under ``-s`` and a lowercase ``bearer``
token of ``OTEL_EXPORTER_OTLP_HEADERS``. Run with ``-v -rA -s --log-cli-level=WARNING
--junitxml=X --alluredir=Y``, no form may reach the terminal, the run folder, X or Y.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from tests.core.conftest import gate_args, run_summary

TOKEN = "tok-Api-7f3K9q2LmXv8"
SMOKE_USER = "smoke-tester-01"
SMOKE_PASSWORD = "Smoke-Pw-4rT7yU1i"
AUTH_SECRET = "Zq+9/xY=Lm4Vb8#kW2"
QUOTED_SECRET = 'pa"ss\\word-Q91z'
DOTENV_KEY = "dotenv-Key-8Hn3Jq5Rw"
OTEL_TOKEN = "otel-lower-2Bx6Nc9Mv"
PRIVATE_KEY = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q8Zr2Lm4Vb8x\n"
    "9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb\n"
    "-----END PRIVATE KEY-----\n"
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


LEAKED_FORMS = {
    "1 Basic base64(user:password)": _b64(f"{SMOKE_USER}:{SMOKE_PASSWORD}"),
    "2 base64 of a token": _b64(TOKEN),
    "2 URL-safe base64 of a dotenv value, unpadded": base64.urlsafe_b64encode(DOTENV_KEY.encode()).decode().rstrip("="),
    "4 percent-encoded, / kept": quote(AUTH_SECRET, safe="/"),
    "4 percent-encoded, lowercase hex": quote(AUTH_SECRET, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),
    "4 quote_plus": quote_plus(AUTH_SECRET),
    "5 JSON-escaped multi-line key": json.dumps(PRIVATE_KEY)[1:-1],
    "5 a line of the key": PRIVATE_KEY.splitlines()[1],
    "5 JSON-escaped quote and backslash": json.dumps(QUOTED_SECRET)[1:-1],
    "5 Python repr of quote and backslash": repr(QUOTED_SECRET)[1:-1],
    "5 JSON-escaped, then shown in a repr": repr(json.dumps(QUOTED_SECRET)[1:-1])[1:-1],
    **{
        f"plain {name}": value
        for name, value in {
            "token": TOKEN,
            "smoke password": SMOKE_PASSWORD,
            "auth secret": AUTH_SECRET,
            "quoted secret": QUOTED_SECRET,
            "dotenv key": DOTENV_KEY,
            "otel token": OTEL_TOKEN,
            "key line 2": PRIVATE_KEY.splitlines()[2],
        }.items()
    },
}

LEAKY_GATE = r"""
import base64, json, logging, os, sys
from urllib.parse import quote, quote_plus
import allure, pytest
from pytest_wimmelgate.config.credentials import auth_token, parse_header_list
from pytest_wimmelgate.errors import Category, CheckFailed

log = logging.getLogger("smoke")
TOKEN = os.environ["WIMMELWELT_API_TOKEN"]


def leak(text, name):
    print("printed", text)
    sys.stderr.write("stderr " + text + "\n")
    log.warning("logged %s", text)
    allure.attach(text, name=name)


@pytest.mark.check("SG-4")
def test_basic_auth_from_two_secrets(evidence):
    pair = os.environ["WIMMELGATE_SMOKE_USER"] + ":" + os.environ["WIMMELGATE_SMOKE_PASSWORD"]
    header = "Authorization: Basic " + base64.b64encode(pair.encode()).decode()
    leak(header, "request")
    evidence.json("request", {"headers": header})
    raise CheckFailed(Category.PRODUCT, f"login refused with {header}", {"header": header})


@pytest.mark.check("SG-4")
@pytest.mark.parametrize("token", [TOKEN])
def test_token_as_parametrize_id(token, wg_variables):
    dotenv = wg_variables["DOTENV_API_KEY"]
    b64_token = base64.b64encode(token.encode()).decode()
    b64_dotenv = base64.urlsafe_b64encode(dotenv.encode()).decode().rstrip("=")
    for text in (b64_token, b64_dotenv, dotenv, token):
        leak(text, "encoded")
    allure.dynamic.parameter("token", token, mode=allure.parameter_mode.MASKED)
    assert token == "expected", f"token {token} was wrong"


@pytest.mark.check("SG-5")
def test_url_encoding_variants():
    secret = os.environ["AUTH_SECRET"]
    lower_hex = quote(secret, safe="").replace("%2B", "%2b").replace("%2F", "%2f")
    variants = [quote(secret, safe="/"), lower_hex, quote_plus(secret)]
    for text in variants:
        leak(f"https://api.example/login?secret={text}", "url")
    assert not variants, f"sent {variants}"


@pytest.mark.check("SG-5")
def test_json_escaped_bodies(evidence):
    values = {"private_key": os.environ["SERVICE_PRIVATE_KEY"], "password": os.environ["DB_PASSWORD"]}
    body = json.dumps(values, indent=2)
    leak(body, "body.json")
    for line in os.environ["SERVICE_PRIVATE_KEY"].splitlines():
        log.warning("key line %s", line)
    evidence.json("body", json.loads(body))
    secret = os.environ["DB_PASSWORD"]
    assert body == "{}", f"answer {body!r} and {secret!r}"


@pytest.mark.check("SG-5")
def test_lowercase_bearer_of_otlp_headers():
    header = parse_header_list(os.environ["OTEL_EXPORTER_OTLP_HEADERS"]).get("authorization")
    token = auth_token(header.value)
    leak(token, "otlp")
    log.warning("plain token %s and AUTH_SECRET %s", TOKEN, os.environ["AUTH_SECRET"])
    raise AssertionError(f"collector refused {header.value}")
"""


@pytest.fixture
def leaky_gate(gate_dir: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("WIMMELWELT_API_TOKEN", TOKEN)
    monkeypatch.setenv("WIMMELGATE_SMOKE_USER", SMOKE_USER)
    monkeypatch.setenv("WIMMELGATE_SMOKE_PASSWORD", SMOKE_PASSWORD)
    monkeypatch.setenv("AUTH_SECRET", AUTH_SECRET)
    monkeypatch.setenv("DB_PASSWORD", QUOTED_SECRET)
    monkeypatch.setenv("SERVICE_PRIVATE_KEY", PRIVATE_KEY)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"authorization=bearer%20{OTEL_TOKEN},x-scope=prod")
    (gate_dir.path / "target.env").write_text(f"DOTENV_API_KEY={DOTENV_KEY}\nLOG_LEVEL=info\n")
    gate_dir.makepyfile(test_leaky=LEAKY_GATE)
    return gate_dir


def _traces(text: bytes | str) -> list[str]:
    raw = text.encode() if isinstance(text, str) else text
    return [name for name, form in LEAKED_FORMS.items() if form.encode() in raw]


@pytest.mark.parametrize("workers", ["0", "2"])
def test_no_form_of_a_seeded_secret_reaches_any_output(leaky_gate: pytest.Pytester, workers: str) -> None:
    junit, allure_dir = leaky_gate.path / "out" / "X.xml", leaky_gate.path / "out" / "Y"
    result = leaky_gate.runpytest_subprocess(
        *gate_args("-m", "staging_gate", "--wg-env-file", "target.env"),
        *("-n", workers, "-v", "-rA", "-s", "--log-cli-level=WARNING", "-l"),
        *(f"--junitxml={junit}", f"--alluredir={allure_dir}"),
    )
    terminal = result.stdout.str() + "\n" + result.stderr.str()
    assert result.ret == 1, terminal[-3000:]
    assert _traces(terminal) == []
    assert "FAILED test_leaky.py::test_token_as_parametrize_id[***]" in terminal
    files = [p for root in (leaky_gate.path / "rel", allure_dir) for p in root.rglob("*") if p.is_file()]
    assert junit.is_file() and any(p.name.endswith("-attachment.json") or "attachment" in p.name for p in files)
    assert {str(p): _traces(p.read_bytes()) for p in [*files, junit] if _traces(p.read_bytes())} == {}
    summary = run_summary(leaky_gate)
    assert summary["verdict"] == "NO-GO" and "leak_scan" in summary
    assert summary["leak_scan"]["findings"] == [] and summary["leak_scan"]["forms"] > 50
    assert "test_token_as_parametrize_id[***]" in junit.read_text()


def test_a_form_planted_behind_the_plugins_back_turns_the_run_no_go(
    gate_dir: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIMMELWELT_API_TOKEN", TOKEN)
    gate_dir.makeconftest(
        """
        import base64, os
        from pathlib import Path
        import pytest

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_teardown(item):
            run_dir = Path(item.config.pluginmanager.get_plugin("wimmelgate-session").run_dir)
            token = os.environ["WIMMELWELT_API_TOKEN"].encode()
            (run_dir / "planted.log").write_bytes(b"debug: " + base64.b64encode(token) + b"\\n")
        """
    )
    gate_dir.makepyfile(
        """
        import pytest
        @pytest.mark.check("SG-1")
        def test_health(): pass
        """
    )
    result = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate"))
    terminal = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, terminal[-2000:]
    summary = run_summary(gate_dir)
    assert summary["verdict"] == "NO-GO"
    assert summary["leak_scan"]["findings"] == [{"file": "planted.log", "form": "base64"}]
    assert any("secret found in planted.log (base64)" in reason for reason in summary["reasons"])
    assert "secret found in planted.log (base64)" in terminal
    [planted] = Path(gate_dir.path, "rel").rglob("planted.log")
    assert _b64(TOKEN).encode() not in planted.read_bytes() and b"***" in planted.read_bytes()
    assert TOKEN not in terminal and _b64(TOKEN) not in terminal
