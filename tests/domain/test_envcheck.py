"""EV-1..EV-6 on production and staging variable sets, and the rules' config errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

import pytest
import yaml

from pytest_wimmelgate.config.fingerprint import fingerprint, fingerprint_key, value_parts
from pytest_wimmelgate.config.secrets import SecretSet, secret_parts
from pytest_wimmelgate.domain.envcheck import (
    EnvResult,
    VariableRules,
    check_auth_secret,
    check_contamination,
    check_database,
    check_endpoints,
    check_required,
    check_values,
    is_placeholder,
    parse_rules,
    run_all,
)
from pytest_wimmelgate.errors import Category, CheckFailed, ConfigError, NotConfigured

KEY = b"test-fingerprint-key"

STAGING: dict[str, str] = {
    "MONGODB_URI": "mongodb://wimmel_stg:Stg-Db-Pw-Qx81Lk02Zr@db1.staging.wimmel.example:27017,"
    "db2.staging.wimmel.example:27017/wimmelwelt_staging?replicaSet=rs0",
    "AUTH_SECRET": "Stg!Auth-Secret-4kZ9qL2xW7pR0mB5vN8cT3",
    "FILE_STORAGE_MODE": "local",
    "LOG_LEVEL": "debug",
    "LOG_ENDPOINT": "https://logs.staging.wimmel.example/ingest",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.staging.wimmel.example:4318",
    "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20stg-otel-TOKEN-7Hq2Wm9Kx4",
}

PROD: dict[str, str] = {
    "MONGODB_URI": "mongodb+srv://wimmel_app:Pr0d%40Db-Pw-7f3K9q2LmX@cluster-prod.ab12c.mongodb.example"
    "/wimmelwelt_prod?retryWrites=true&w=majority",
    "AUTH_SECRET": "q7W!x9Zr2#Lm4Vb8Np6Tt1Ks3Hd5Yf0Gj",
    "AWS_ACCESS_KEY_ID": "AKIA4PRODQ7W2E9R1T5Y",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPRODKEY9x1",
    "FILE_STORAGE_MODE": "s3",
    "AWS_REGION": "eu-central-1",
    "LOG_LEVEL": "info",
    "LOG_ENDPOINT": "https://logs.wimmel.example/ingest",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otlp.wimmel.example:4318",
    "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20prod-otel-TOKEN-3Vn8Rt5Yp1,x-scope=prod",
}

STAGING_FPS = {
    name: sorted({fingerprint(text, KEY) for _, text in value_parts(name, STAGING[name])})
    for name in ("MONGODB_URI", "AUTH_SECRET", "OTEL_EXPORTER_OTLP_HEADERS")
}

PROD_YAML = f"""
variables:
  required: [MONGODB_URI, AUTH_SECRET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, FILE_STORAGE_MODE,
             AWS_REGION, LOG_LEVEL, LOG_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS]
  rules:
    FILE_STORAGE_MODE: {{equals: s3}}
    AWS_REGION: {{equals: eu-central-1}}
    LOG_LEVEL: {{equals: info}}
    LOG_ENDPOINT: {{url: [https]}}
  database: wimmelwelt_prod
  foreign:
    environment: staging
    fingerprints: {STAGING_FPS}
    markers: [staging, wimmelwelt_staging]
  otel_token_variable: OTEL_EXPORTER_OTLP_HEADERS
"""

STAGING_YAML = """
variables:
  required: [MONGODB_URI, AUTH_SECRET, FILE_STORAGE_MODE, LOG_LEVEL, LOG_ENDPOINT,
             OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS]
  rules:
    FILE_STORAGE_MODE: {one_of: [s3, local]}
    LOG_LEVEL: {equals: debug}
  conditional:
    - {when: {FILE_STORAGE_MODE: s3}, require: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]}
  database: wimmelwelt_staging
  foreign:
    environment: production
    from_env: {AUTH_SECRET: PROD_AUTH_SECRET, MONGODB_URI: PROD_MONGODB_URI}
    markers: [wimmelwelt_prod, cluster-prod]
"""


def rules_from(text: str, source: str = "environments/production.yaml") -> VariableRules:
    return parse_rules(yaml.safe_load(text)["variables"], source)


PROD_RULES = rules_from(PROD_YAML)
STAGING_RULES = rules_from(STAGING_YAML, "environments/staging.yaml")


def all_prod(variables: Mapping[str, str]) -> dict[str, EnvResult]:
    return run_all(variables, PROD_RULES, key=KEY)


def leaked(results: Iterable[Any], inputs: Mapping[str, str]) -> list[str]:
    """Input values (and 8-char prefixes/suffixes of secrets) found in any result text."""
    text = " ".join(str(r) + " " + str(getattr(r, "evidence", dict)()) for r in results)
    config_constants = {"s3", "local", "eu-central-1", "info", "debug"}
    found = [v for v in inputs.values() if v and v not in config_constants and v in text]
    for secret in sorted({p for name, value in inputs.items() for p in secret_parts(name, value)}):
        # a header list starts with its (public) header name: check it whole only
        pieces = (secret,) if "=" in secret else (secret, secret[:8], secret[-8:])
        for piece in pieces:
            if len(piece) >= 8 and piece in text:
                found.append(piece)
    return found


# ----------------------------------------------------------------------------- passing


def test_complete_production_set_passes_every_ev_check() -> None:
    results = all_prod(PROD)
    assert sorted(results) == ["EV-1", "EV-2", "EV-3", "EV-4", "EV-5", "EV-6"]
    for check_id, result in results.items():
        assert result.ok, f"{check_id}: {result.reason}"
        result.raise_for_failure()
    assert results["EV-3"].reason == "MONGODB_URI parses (mongodb+srv) and names database wimmelwelt_prod"
    assert leaked(results.values(), PROD) == []


def test_staging_with_local_storage_passes_without_aws_keys() -> None:
    environ = {"PROD_AUTH_SECRET": PROD["AUTH_SECRET"], "PROD_MONGODB_URI": PROD["MONGODB_URI"]}
    results = run_all(STAGING, STAGING_RULES, key=KEY, environ=environ)
    assert {k: r.ok for k, r in results.items()} == dict.fromkeys(results, True)
    assert "production" in results["EV-4"].reason
    assert leaked(results.values(), {**STAGING, **environ}) == []


# ----------------------------------------------------------------------------- EV-1


def test_ev1_missing_variable_is_named_exactly() -> None:
    variables = dict(PROD)
    del variables["LOG_ENDPOINT"]
    result = check_required(variables, PROD_RULES)
    assert not result.ok and result.category is Category.CONFIG
    assert result.variables == ("LOG_ENDPOINT",)
    assert result.reason == "mandatory variables missing (not set: LOG_ENDPOINT)"


def test_ev1_names_every_missing_and_empty_variable() -> None:
    variables = {**PROD, "AUTH_SECRET": "   ", "AWS_REGION": ""}
    del variables["MONGODB_URI"]
    result = check_required(variables, PROD_RULES)
    assert result.variables == ("MONGODB_URI", "AUTH_SECRET", "AWS_REGION")
    assert result.reason == ("mandatory variables missing (not set: MONGODB_URI; empty: AUTH_SECRET, AWS_REGION)")
    with pytest.raises(CheckFailed) as info:
        result.raise_for_failure()
    assert info.value.category is Category.CONFIG


# ----------------------------------------------------------------------------- EV-2


def test_ev2_wrong_region_names_variable_and_rule_not_the_value() -> None:
    result = check_values({**PROD, "AWS_REGION": "us-east-1"}, PROD_RULES)
    assert not result.ok
    assert result.variables == ("AWS_REGION",)
    assert result.reason == "AWS_REGION violates equals eu-central-1"
    assert "us-east-1" not in str(result.evidence())


def test_ev2_staging_storage_s3_requires_aws_credentials() -> None:
    result = check_values({**STAGING, "FILE_STORAGE_MODE": "s3"}, STAGING_RULES)
    assert not result.ok
    assert result.variables == ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    assert result.reason == "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY required when FILE_STORAGE_MODE=s3"
    ok = check_values(
        {
            **STAGING,
            "FILE_STORAGE_MODE": "s3",
            "AWS_ACCESS_KEY_ID": "AKIA-STG",
            "AWS_SECRET_ACCESS_KEY": "x" * 40,
        },
        STAGING_RULES,
    )
    assert ok.ok, ok.reason


def test_ev2_one_of_and_staging_log_level() -> None:
    result = check_values({**STAGING, "FILE_STORAGE_MODE": "gcs", "LOG_LEVEL": "info"}, STAGING_RULES)
    assert result.reason == "FILE_STORAGE_MODE violates one_of [s3, local]; LOG_LEVEL violates equals debug"
    assert result.variables == ("FILE_STORAGE_MODE", "LOG_LEVEL")


def test_ev2_url_rule() -> None:
    result = check_values({**PROD, "LOG_ENDPOINT": "http://logs.wimmel.example"}, PROD_RULES)
    assert result.reason == "LOG_ENDPOINT violates url https"


# ----------------------------------------------------------------------------- EV-3


def test_ev3_staging_database_in_production_fails_naming_the_variable() -> None:
    uri = PROD["MONGODB_URI"].replace("/wimmelwelt_prod", "/wimmelwelt_staging")
    variables = {**PROD, "MONGODB_URI": uri}
    result = check_database(variables, PROD_RULES)
    assert not result.ok
    assert result.variables == ("MONGODB_URI",)
    assert result.reason == "MONGODB_URI names database wimmelwelt_staging, expected wimmelwelt_prod"
    contamination = check_contamination(variables, PROD_RULES, key=KEY)
    assert not contamination.ok
    assert contamination.variables == ("MONGODB_URI",)
    assert "MONGODB_URI database name contains staging marker 'staging'" in contamination.reason
    # every other check still passes: the failure points at exactly that variable
    others = {k: r.ok for k, r in all_prod(variables).items() if k not in ("EV-3", "EV-4")}
    assert all(others.values()), others
    assert leaked(all_prod(variables).values(), variables) == []


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("postgres://u:p@h/wimmelwelt_prod", "is not a mongodb:// or mongodb+srv:// URI"),
        (
            "mongodb+srv://u:SecretPw99@h1.example,h2.example/wimmelwelt_prod",
            "does not parse as a MongoDB URI",
        ),
        ("mongodb://u:Secret@Pw@h.example/wimmelwelt_prod", "does not parse as a MongoDB URI (InvalidURI)"),
        ("mongodb://h.example:27017/", "names no database, expected wimmelwelt_prod"),
    ],
)
def test_ev3_bad_uris(uri: str, why: str) -> None:
    result = check_database({"MONGODB_URI": uri}, PROD_RULES)
    assert not result.ok
    assert result.reason.startswith("MONGODB_URI ")
    assert why in result.reason
    assert "Secret" not in str(result.evidence()) and "SecretPw99" not in result.reason


def test_ev3_srv_uri_is_parsed_without_dns() -> None:
    # a name that cannot resolve: a DNS lookup would fail or hang
    uri = "mongodb+srv://u:p@cluster.invalid/wimmelwelt_prod?srvServiceName=mongodb&retryWrites=true"
    assert check_database({"MONGODB_URI": uri}, PROD_RULES).ok


# ----------------------------------------------------------------------------- EV-4


def test_ev4_staging_secret_in_production_matches_by_fingerprint() -> None:
    variables = {**PROD, "AUTH_SECRET": STAGING["AUTH_SECRET"]}
    result = check_contamination(variables, PROD_RULES, key=KEY)
    fp = fingerprint(STAGING["AUTH_SECRET"], KEY)
    assert not result.ok
    assert result.variables == ("AUTH_SECRET",)
    assert result.reason == f"AUTH_SECRET value matches staging AUTH_SECRET (fingerprint {fp})"
    assert leaked([result], variables) == []


def test_ev4_staging_token_with_other_header_spelling_is_found() -> None:
    token = "stg-otel-TOKEN-7Hq2Wm9Kx4"
    variables = {**PROD, "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {token}"}
    result = check_contamination(variables, PROD_RULES, key=KEY)
    assert not result.ok
    assert result.variables == ("OTEL_EXPORTER_OTLP_HEADERS",)
    assert "matches staging OTEL_EXPORTER_OTLP_HEADERS" in result.reason
    assert token not in str(result.evidence())


def test_ev4_staging_host_or_password_in_production_uri() -> None:
    # production credentials, but a staging host
    uri = "mongodb://wimmel_app:Other-Pw-1@db1.staging.wimmel.example:27017/wimmelwelt_prod"
    result = check_contamination({**PROD, "MONGODB_URI": uri}, PROD_RULES, key=KEY)
    assert not result.ok
    assert "MONGODB_URI uri host matches staging MONGODB_URI" in result.reason
    assert "MONGODB_URI host contains staging marker 'staging'" in result.reason
    assert "db1.staging" not in result.reason


def test_ev4_reads_foreign_values_from_the_process() -> None:
    environ = {"PROD_AUTH_SECRET": PROD["AUTH_SECRET"], "PROD_MONGODB_URI": PROD["MONGODB_URI"]}
    variables = {**STAGING, "AUTH_SECRET": PROD["AUTH_SECRET"]}
    result = check_contamination(variables, STAGING_RULES, key=KEY, environ=environ)
    assert not result.ok
    assert result.reason.startswith("AUTH_SECRET value matches production AUTH_SECRET (fingerprint ")
    missing = check_contamination(STAGING, STAGING_RULES, key=KEY, environ={})
    assert not missing.ok
    assert missing.reason == "foreign values not readable (unset): PROD_AUTH_SECRET, PROD_MONGODB_URI"


def test_ev4_without_foreign_section_is_not_configured() -> None:
    rules = parse_rules({"required": ["A"]}, "env.yaml")
    with pytest.raises(NotConfigured):
        check_contamination({"A": "1"}, rules, key=KEY)
    assert "EV-4" not in run_all({"A": "1"}, rules, key=KEY)


# ----------------------------------------------------------------------------- EV-5


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"LOG_ENDPOINT": "logs.wimmel.example/ingest"}, "LOG_ENDPOINT is not an http(s) URL with a host"),
        (
            {"OTEL_EXPORTER_OTLP_ENDPOINT": "https://:4318"},
            "OTEL_EXPORTER_OTLP_ENDPOINT is not an http(s) URL",
        ),
        (
            {"OTEL_EXPORTER_OTLP_HEADERS": "x-scope=prod"},
            "OTEL_EXPORTER_OTLP_HEADERS has no Authorization entry",
        ),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20"}, "HEADERS Authorization token is empty"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Basic%20dXNlcjpwYXNz"}, "is not 'Bearer <token>'"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer%20%3Cyour-token%3E"}, "token is a placeholder"),
        ({"OTEL_EXPORTER_OTLP_HEADERS": ""}, "OTEL_EXPORTER_OTLP_HEADERS not set"),
    ],
)
def test_ev5_failures(change: dict[str, str], reason: str) -> None:
    variables = {**PROD, **change}
    result = check_endpoints(variables, PROD_RULES)
    assert not result.ok
    assert reason in result.reason
    assert result.variables == tuple(change)
    assert leaked([result], variables) == []


def test_lowercase_bearer_token_passes_ev5_is_compared_by_ev4_and_never_shown() -> None:
    """``authorization=bearer%20<token>``: one parser (config/credentials) for every use."""
    token = "stg-otel-TOKEN-7Hq2Wm9Kx4"
    variables = {**PROD, "OTEL_EXPORTER_OTLP_HEADERS": f"authorization=bearer%20{token}"}
    assert check_endpoints({**PROD, "OTEL_EXPORTER_OTLP_HEADERS": "authorization=bearer%20Own-T0ken-x9"}, PROD_RULES).ok
    contamination = check_contamination(variables, PROD_RULES, key=KEY)
    assert not contamination.ok
    assert "OTEL_EXPORTER_OTLP_HEADERS header token matches staging" in contamination.reason
    assert ("header token", token) in value_parts("OTEL_EXPORTER_OTLP_HEADERS", variables["OTEL_EXPORTER_OTLP_HEADERS"])
    assert token in SecretSet.collect(variables).values
    assert leaked(all_prod(variables).values(), variables) == []


def test_ev5_passes_with_bearer_token() -> None:
    result = check_endpoints(PROD, PROD_RULES)
    assert result.ok
    assert result.reason == (
        "LOG_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT are valid URLs; "
        "OTEL_EXPORTER_OTLP_HEADERS has a Bearer token in Authorization"
    )


# ----------------------------------------------------------------------------- EV-6


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("Sh0rt!pw", "AUTH_SECRET too weak: 8 characters (need >= 32)"),
        ("a" * 40, "1 character classes (need >= 3); looks like a placeholder"),
        ("changeme-changeme-changeme-changeme-1A", "looks like a placeholder"),
        ("your-secret-here-Please-Replace-2026-!!", "looks like a placeholder"),
        ("0123456789abcdef0123456789abcdef0123456789abcdef", "2 character classes (need >= 3)"),
    ],
)
def test_ev6_weak_secrets(secret: str, reason: str) -> None:
    variables = {**PROD, "AUTH_SECRET": secret}
    result = check_auth_secret(variables, PROD_RULES, key=KEY)
    assert not result.ok
    assert result.variables == ("AUTH_SECRET",)
    assert reason in result.reason
    assert secret not in str(result.evidence()) and secret[:8] not in result.reason


def test_ev6_staging_secret_in_production() -> None:
    result = check_auth_secret({**PROD, "AUTH_SECRET": STAGING["AUTH_SECRET"]}, PROD_RULES, key=KEY)
    assert not result.ok
    assert "equals staging AUTH_SECRET (fingerprint " in result.reason


def test_ev6_strong_secret_passes() -> None:
    result = check_auth_secret(PROD, PROD_RULES, key=KEY)
    assert result.ok
    assert result.reason.startswith("AUTH_SECRET strong: 33 characters, 4 classes, not a placeholder")


@pytest.mark.parametrize(
    "value",
    [
        "changeme",
        "secret",
        "password",
        "your-secret-here",
        "xxxxxxxxxxxx",
        "<AUTH_SECRET>",
        "${AUTH_SECRET}",
        "abababababab",
        "1234567890",
        "TODO",
        "please-changeme-now",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


def test_random_values_are_not_placeholders() -> None:
    assert not is_placeholder(PROD["AUTH_SECRET"])
    assert not is_placeholder("kR8#vQ2!mX5zL9@tB4wN7pD1")


# ----------------------------------------------------------------------------- secrets


def test_secret_values_cover_names_uri_credentials_and_header_tokens() -> None:
    values = SecretSet.collect(PROD).values
    assert PROD["AUTH_SECRET"] in values
    assert PROD["AWS_SECRET_ACCESS_KEY"] in values
    assert PROD["AWS_ACCESS_KEY_ID"] in values
    assert "Pr0d@Db-Pw-7f3K9q2LmX" in values  # URL-decoded password
    assert "Pr0d%40Db-Pw-7f3K9q2LmX" in values  # as written
    assert "wimmel_app:Pr0d%40Db-Pw-7f3K9q2LmX" in values
    assert "prod-otel-TOKEN-3Vn8Rt5Yp1" in values
    assert "Bearer%20prod-otel-TOKEN-3Vn8Rt5Yp1" in values
    for public in ("s3", "eu-central-1", "info", PROD["LOG_ENDPOINT"], PROD["MONGODB_URI"]):
        assert public not in values
    assert list(values) == sorted(values, key=lambda v: (-len(v), v))  # longest first
    extra = SecretSet.collect({"SMOKE_USER_PW": "SMOKE-PW-123"}, extra_names=["SMOKE_USER_PW"])
    assert "SMOKE-PW-123" in extra.values


def test_fingerprint_is_a_keyed_12_hex_prefix() -> None:
    fp = fingerprint("value", b"k1")
    assert len(fp) == 12 and int(fp, 16) >= 0
    assert fp != fingerprint("value", b"k2")
    assert fingerprint_key({"WIMMELGATE_FINGERPRINT_KEY": "abc"}) == b"abc"
    assert fingerprint_key({}) == b"wimmelgate-fingerprint-v1"


def test_fingerprint_cli_prints_only_fingerprints(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from pytest_wimmelgate.config.fingerprint import main

    env = tmp_path / "stg.env"
    env.write_text(f"AUTH_SECRET={STAGING['AUTH_SECRET']}\nMONGODB_URI={STAGING['MONGODB_URI']}\n")
    assert main(["--dotenv", str(env), "AUTH_SECRET", "MONGODB_URI", "NOPE"]) == 0
    out = capsys.readouterr().out
    assert "AUTH_SECRET value: " in out and "MONGODB_URI uri password: " in out and "NOPE: not set" in out
    assert STAGING["AUTH_SECRET"] not in out and "Stg-Db-Pw" not in out and "staging.wimmel" not in out


# ----------------------------------------------------------------------------- config errors


@pytest.mark.parametrize(
    ("section", "key_path", "expected"),
    [
        (
            {"rules": {"AWS_REGION": {"equal": "eu-central-1"}}},
            "variables.rules.AWS_REGION.equal",
            "unknown key 'equal' (expected one of: equals, max_length, min_classes, min_length, not_placeholder, "
            "one_of, pattern, url)",
        ),
        ({"required": "MONGODB_URI"}, "variables.required", "a list"),
        ({"required": ["MONGODB URI"]}, "variables.required[0]", "a variable name like LOG_LEVEL"),
        ({"rules": {"A": {"one_of": []}}}, "variables.rules.A.one_of", "a non-empty list"),
        ({"rules": {"A": {"min_length": "32 chars"}}}, "variables.rules.A.min_length", "a positive whole number"),
        ({"rules": {"A": {"min_length": "0"}}}, "variables.rules.A.min_length", "a positive whole number"),
        ({"rules": {"A": {"pattern": "("}}}, "variables.rules.A.pattern", "a valid regular expression"),
        ({"rules": {"A": {"min_classes": 5}}}, "variables.rules.A.min_classes", "a whole number from 1 to 4"),
        ({"conditional": [{"when": {"M": "s3"}}]}, "variables.conditional[0].require", "a list"),
        (
            {"conditional": [{"when": {}, "require": ["A"]}]},
            "variables.conditional[0].when",
            "a mapping of VARIABLE: value or [values]",
        ),
        (
            {"foreign": {"fingerprints": {"A": ["not-hex"]}}},
            "variables.foreign.fingerprints.A[0]",
            "a 12-hex-digit fingerprint",
        ),
        (
            {"foreign": {"marker": ["x"]}},
            "variables.foreign.marker",
            "unknown key 'marker' (expected one of: environment, fingerprints, from_env, markers)",
        ),
        (
            {"databse": "x"},
            "variables.databse",
            "unknown key 'databse' (expected one of: auth_secret, conditional, database, endpoints, foreign, "
            "mongodb_variable, otel_token_header, otel_token_scheme, otel_token_variable, required, rules, secrets)",
        ),
        ({"auth_secret": {"min_length": 0}}, "variables.auth_secret.min_length", "a positive whole number"),
    ],
)
def test_bad_rules_raise_config_error_with_key_path(section: dict[str, Any], key_path: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rules(section, "environments/production.yaml")
    assert info.value.key_path == key_path
    assert info.value.expected == expected
    assert str(info.value) == f"environments/production.yaml: {key_path}: {expected}"


def test_whole_numbers_written_as_text_are_numbers() -> None:
    """A ``${VAR}`` placeholder resolves to a text: ``min_length: "32"`` is 32."""
    rules = parse_rules(
        {"rules": {"A": {"min_length": "4", "min_classes": "2"}}, "auth_secret": {"min_length": "40"}}, "env.yaml"
    )
    assert dict(rules.rules)["A"][0].argument == 4 and dict(rules.rules)["A"][1].argument == 2
    assert rules.auth_secret.min_length == 40
    assert check_auth_secret(PROD, rules, key=KEY).reason.startswith("AUTH_SECRET too weak: 33 characters (need >= 40)")


def test_absent_section_is_not_configured() -> None:
    with pytest.raises(NotConfigured):
        parse_rules(None, "env.yaml")


MUTATIONS: list[dict[str, str]] = [
    {"AUTH_SECRET": "Sh0rt!pw-9"},
    {"AUTH_SECRET": STAGING["AUTH_SECRET"]},
    {"AUTH_SECRET": "changeme-changeme-changeme-changeme-1A"},
    {"MONGODB_URI": STAGING["MONGODB_URI"]},
    {"MONGODB_URI": "mongodb://u:Secret@Pw-with-at@h.example/wimmelwelt_prod"},
    {"MONGODB_URI": "mongodb+srv://u:SecretPw99@h1.example,h2.example/wimmelwelt_prod"},
    {"MONGODB_URI": "not a uri but a Secret-Looking-Value-123"},
    {"OTEL_EXPORTER_OTLP_HEADERS": STAGING["OTEL_EXPORTER_OTLP_HEADERS"]},
    {"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Token%20abcdefghijk-Secret-77"},
    {"LOG_ENDPOINT": "https://user:LogPw-Secret-55@logs.staging.wimmel.example/ingest"},
    {"LOG_ENDPOINT": "ftp://logs.wimmel.example/Secret-Path-66"},
    {"AWS_REGION": "us-east-1-SecretRegion", "LOG_LEVEL": "debug-Secret-Level"},
    {"FILE_STORAGE_MODE": "local-Secret-Mode-88"},
]


@pytest.mark.parametrize("change", MUTATIONS)
def test_no_input_value_reaches_any_reason_or_evidence(change: dict[str, str]) -> None:
    variables = {**PROD, **change}
    results = all_prod(variables)
    assert not all(r.ok for r in results.values()), "each mutation must fail at least one check"
    assert leaked(results.values(), variables) == []
    for name in change:
        assert any(name in r.variables for r in results.values()), name


def test_marker_in_an_endpoint_host_fails_ev4() -> None:
    variables = {**PROD, "LOG_ENDPOINT": "https://logs.staging.wimmel.example/ingest"}
    result = check_contamination(variables, PROD_RULES, key=KEY)
    assert not result.ok
    assert result.reason == "LOG_ENDPOINT host contains staging marker 'staging'"


def test_ev6_names_a_secret_too_short_to_be_masked_in_any_output() -> None:
    """A secret under the redaction minimum cannot be masked anywhere: the environment check says so."""
    variables = {**PROD, "OTEL_EXPORTER_OTLP_HEADERS": "k=v", "AUTH_SECRET": PROD["AUTH_SECRET"]}
    rules = replace(PROD_RULES, required=(*PROD_RULES.required, "OTEL_EXPORTER_OTLP_HEADERS"))
    result = check_auth_secret(variables, rules, key=KEY)
    assert not result.ok
    assert "too short to be safe" in result.reason and "OTEL_EXPORTER_OTLP_HEADERS" in result.reason
    assert "k=v" not in result.reason
