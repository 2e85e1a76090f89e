"""Which values count as secret, and how they are hidden."""

from __future__ import annotations

import pytest

from pytest_wimmelgate.config.secrets import MASK, SecretSet
from tests.core.conftest import gate_args


def test_secret_named_variables_and_uri_credentials_are_hidden() -> None:
    secrets = SecretSet.collect(
        {
            "AUTH_SECRET": "q7W!x9Zr2#Lm4Vb8",
            "MONGODB_URI": "mongodb://app:Db-Pw-7f3K@db.example/wimmelwelt_prod",
            "LOG_LEVEL": "info",
        }
    )
    text = secrets.redact("secret q7W!x9Zr2#Lm4Vb8, uri mongodb://app:Db-Pw-7f3K@db.example, level info")
    assert "q7W!x9Zr2#Lm4Vb8" not in text and "Db-Pw-7f3K" not in text
    assert "level info" in text and MASK in text


def test_only_secret_named_headers_are_secret() -> None:
    secrets = SecretSet.collect({"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20tok-123456,x-scope=prod"})
    assert secrets.redact("token tok-123456 in production") == f"token {MASK} in production"


def test_url_encoded_forms_are_hidden_too() -> None:
    secrets = SecretSet.of(["p@ss word/1"])
    assert secrets.redact("a=p%40ss%20word%2F1 b=p%40ss+word%2F1") == f"a={MASK} b={MASK}"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert SecretSet.of(["abc"]).redact("abc") == "abc"


def test_lowercase_bearer_token_of_otlp_headers_is_a_secret() -> None:
    secrets = SecretSet.collect({"OTEL_EXPORTER_OTLP_HEADERS": "authorization=bearer%20tok-lower-123456,x-scope=prod"})
    assert secrets.redact("sent tok-lower-123456 to prod") == f"sent {MASK} to prod"


LOWERCASE_BEARER_GATE = """
import logging, os, allure, pytest
from pytest_wimmelgate.config.credentials import auth_token, parse_header_list

@pytest.mark.check("SG-4")
def test_export(evidence):
    header = parse_header_list(os.environ["OTEL_EXPORTER_OTLP_HEADERS"]).get("authorization")
    token = auth_token(header.value)
    print("printed", token)
    logging.getLogger("otlp").warning("logged %s", token)
    allure.attach("attached " + token, name="raw")
    evidence.json("answer", {"token": token})
    assert token == "other", f"collector refused token {token}"
"""


def test_lowercase_bearer_in_otlp_headers_is_redacted_in_every_output(
    gate_dir: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "tok-lower-9f8e7d6c5b4a"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"authorization=bearer%20{token},x-scope=prod")
    gate_dir.makepyfile(LOWERCASE_BEARER_GATE)
    result = gate_dir.runpytest_subprocess(*gate_args("-m", "staging_gate", "-rA", "-l", "--log-level", "INFO"))
    assert result.ret == 1
    output = result.stdout.str() + result.stderr.str()
    assert "collector refused token ***" in output and token not in output
    files = [p for p in (gate_dir.path / "rel").rglob("*") if p.is_file()]
    assert any(p.name == "junit.xml" for p in files)
    assert [str(p) for p in files if token.encode() in p.read_bytes()] == []
