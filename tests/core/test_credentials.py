"""The one parser of URIs with userinfo, OTLP header lists and Authorization values."""

from __future__ import annotations

import base64

import pytest

from pytest_wimmelgate.config.credentials import (
    auth_token,
    basic_credentials,
    parse_header_list,
    parse_uri,
    split_authorization,
)


def test_multi_host_mongodb_uri_gives_user_password_hosts_database_and_query() -> None:
    uri = parse_uri(
        "mongodb://app:Db-Pw-7f3K@db1.example:27017,DB2.example:27018/wimmelwelt_prod?replicaSet=rs0&tls=true"
    )
    assert uri is not None
    assert (uri.scheme, uri.username, uri.password) == ("mongodb", "app", "Db-Pw-7f3K")
    assert uri.hosts == ("db1.example:27017", "DB2.example:27018")
    assert uri.host_names == ("db1.example", "db2.example")
    assert (uri.path, uri.database, uri.query) == ("/wimmelwelt_prod", "wimmelwelt_prod", "replicaSet=rs0&tls=true")
    assert uri.userinfo_raw == "app:Db-Pw-7f3K" and uri.has_password


def test_percent_encoded_userinfo_is_given_decoded_and_as_written() -> None:
    uri = parse_uri("mongodb+srv://sm%40ke:p%40ss%2Fw%3Ard@cluster0.example.net/db")
    assert uri is not None
    assert (uri.username, uri.password) == ("sm@ke", "p@ss/w:rd")
    assert (uri.username_raw, uri.password_raw) == ("sm%40ke", "p%40ss%2Fw%3Ard")
    assert uri.userinfo == "sm@ke:p@ss/w:rd" and uri.host_names == ("cluster0.example.net",)


def test_an_at_sign_in_the_path_or_query_is_not_userinfo() -> None:
    uri = parse_uri("https://logs.example/search?q=user@example.org")
    assert uri is not None and not uri.has_userinfo and uri.hosts == ("logs.example",)
    assert uri.query == "q=user@example.org"


def test_userinfo_ends_at_the_last_at_sign_of_the_authority() -> None:
    uri = parse_uri("https://me@corp:p@ss@grafana.example:3000/api")
    assert uri is not None and (uri.username, uri.password) == ("me@corp", "p@ss")
    assert uri.host_names == ("grafana.example",)


def test_user_without_password_and_ipv6_hosts() -> None:
    uri = parse_uri("http://token-only@[::1]:9090/")
    assert uri is not None and uri.has_userinfo and not uri.has_password
    assert uri.username == "token-only" and uri.userinfo_raw == "token-only" and uri.host_names == ("::1",)


@pytest.mark.parametrize("text", ["", "not a uri", "db.example:27017", "://x@y", "a b://u:p@h"])
def test_texts_without_a_scheme_are_not_uris(text: str) -> None:
    assert parse_uri(text) is None


def test_header_list_values_are_percent_decoded_and_keys_case_insensitive() -> None:
    headers = parse_header_list(" authorization=bearer%20tok-123456 , X-Scope=prod%2Ceu,,x-scope=prod ")
    token = headers.get("Authorization")
    assert token is not None and token.value == "bearer tok-123456" and token.raw_value == "bearer%20tok-123456"
    assert token.name == "authorization" and token.key == "authorization"
    assert headers.get("X-SCOPE") is not None and headers.get("X-SCOPE").value == "prod"  # type: ignore[union-attr]
    assert headers.as_dict() == {"authorization": "bearer tok-123456", "x-scope": "prod"}
    assert headers.malformed == ()


def test_header_members_without_equals_or_key_are_reported_by_position_only() -> None:
    headers = parse_header_list("api-key=abc,just-a-secret-value,=orphan")
    assert [h.name for h in headers.headers] == ["api-key"]
    assert headers.malformed == (2, 3)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "Basic", "basic", "Token", "ApiKey"])
def test_auth_token_accepts_every_spelling_of_a_known_scheme(scheme: str) -> None:
    assert auth_token(f"{scheme}  tok-123456 ") == "tok-123456"


def test_auth_token_with_a_named_scheme_and_unknown_schemes() -> None:
    assert auth_token("bearer abc", "Bearer") == "abc"
    assert auth_token("Basic abc", "Bearer") is None
    assert auth_token("Custom abc") is None
    assert auth_token("abc") is None
    parsed = split_authorization("Custom abc")
    assert parsed is not None and parsed.scheme == "Custom" and parsed.is_scheme("custom")


def test_basic_credentials_decode_with_and_without_padding() -> None:
    token = base64.b64encode(b"smoke:pw:with-colon").decode()
    assert basic_credentials(token) == ("smoke", "pw:with-colon")
    assert basic_credentials(token.rstrip("=")) == ("smoke", "pw:with-colon")
    assert basic_credentials("not base64!") is None
    assert basic_credentials(base64.b64encode(b"no colon").decode()) is None
