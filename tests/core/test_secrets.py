"""Which values count as secret, and how they are hidden."""

from __future__ import annotations

from pytest_wimmelgate.config.secrets import MASK, SecretSet


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
