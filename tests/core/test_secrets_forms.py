"""Every form in which a secret can reach an output is masked, and only its form is ever named."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus
from xml.sax.saxutils import escape

import pytest

from pytest_wimmelgate.config.secrets import MASK, MIN_LENGTH, SecretSet, too_short

SECRET = 'Zq+9/xY=k"3\\Lm 4Vb8'
PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7q8Zr2Lm4Vb8x\n"
    "9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb8x9Zr2Lm4Vb\n"
    "-----END PRIVATE KEY-----\n"
)

ENCODINGS: dict[str, Callable[[str], str]] = {
    "base64": lambda v: base64.b64encode(v.encode()).decode(),
    "base64 without padding": lambda v: base64.b64encode(v.encode()).decode().rstrip("="),
    "URL-safe base64": lambda v: base64.urlsafe_b64encode(v.encode()).decode(),
    "URL-safe base64 without padding": lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
    "Basic base64 of an unknown user with the secret": lambda v: base64.b64encode(f"someone:{v}".encode()).decode(),
    "base64 of a JSON body holding the secret": lambda v: base64.b64encode(json.dumps({"pw": v}).encode()).decode(),
    "percent-encoded": lambda v: quote(v, safe=""),
    "percent-encoded, / kept": lambda v: quote(v, safe="/"),
    "percent-encoded, lowercase hex": lambda v: re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(v, safe="")),
    "percent-encoded, mixed-case hex": lambda v: quote(v, safe="").replace("%2B", "%2b").replace("%2F", "%2f"),
    "percent-encoded, lower-cased whole": lambda v: quote(v, safe="").lower(),
    "quote_plus": quote_plus,
    "quote_plus, / kept": lambda v: quote_plus(v, safe="/"),
    "JSON-escaped": lambda v: json.dumps(v)[1:-1],
    "JSON-escaped twice": lambda v: json.dumps(json.dumps(v))[1:-1],
    "Python repr": lambda v: repr(v)[1:-1],
    "Python repr inside a dict": lambda v: repr({"pw": v}),
    "XML-escaped": lambda v: escape(v, {'"': "&quot;"}),
}


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_each_encoding_of_a_secret_is_masked(encoding: str) -> None:
    encoded = ENCODINGS[encoding](SECRET)
    redacted = SecretSet.of([SECRET]).redact(f"before {encoded} after")
    assert MASK in redacted and redacted.startswith("before ") and redacted.endswith(" after")
    assert encoded not in redacted
    assert "Zq" not in redacted and "xY" not in redacted


def test_basic_auth_of_two_known_values_is_masked_whole_and_named() -> None:
    secrets = SecretSet.collect({"SMOKE_USER": "smoke-tester", "SMOKE_PASSWORD": "Smoke-Pw-7f3K9q"})
    header = "Authorization: Basic " + base64.b64encode(b"smoke-tester:Smoke-Pw-7f3K9q").decode()
    assert secrets.redact(header) == f"Authorization: Basic {MASK}"
    assert "smoke-tester" in secrets.users and "smoke-tester" not in secrets.secrets
    assert secrets.redact("user smoke-tester") == "user smoke-tester"  # a user name alone is not secret
    assert "base64 of user:secret" in secrets.findings(header)


def test_uri_user_and_password_pair_and_a_basic_header_value_are_secrets() -> None:
    basic = base64.b64encode(b"grafana:Gr4f-Pw-Secret").decode()
    secrets = SecretSet.collect(
        {"MONGODB_URI": "mongodb://app:Db-Pw-7f3K@h1,h2/db", "GRAFANA_AUTH_HEADERS": f"authorization=basic%20{basic}"}
    )
    assert secrets.redact(base64.b64encode(b"app:Db-Pw-7f3K").decode()) == MASK
    assert secrets.redact("password Gr4f-Pw-Secret") == f"password {MASK}"


def test_multi_line_key_in_pretty_json_and_each_of_its_lines_are_masked() -> None:
    secrets = SecretSet.of([PEM])
    body = json.dumps({"private_key": PEM}, indent=2)
    assert json.loads(secrets.redact(body)) == {"private_key": MASK}
    for line in PEM.splitlines()[1:-1]:
        assert secrets.redact(f"log: {line}") == f"log: {MASK}"
    assert secrets.redact("-----BEGIN PRIVATE KEY-----") == "-----BEGIN PRIVATE KEY-----"  # armour is public
    assert secrets.redact(PEM.replace("\n", "\r\n")).count("MIIE") == 0


def test_overlapping_secrets_are_masked_as_their_union() -> None:
    secrets = SecretSet.of(["alpha-bravo-1", "bravo-1-charlie"])
    assert secrets.redact("x alpha-bravo-1-charlie y") == f"x {MASK} y"


def test_values_captured_at_run_time_join_with_their_forms() -> None:
    secrets = SecretSet.of(["static-secret-1"])
    token = "sess-9f8e7d6c5b4a"
    assert secrets.redact(token) == token
    secrets.add(token)
    assert secrets.redact(base64.b64encode(token.encode()).decode()) == MASK
    assert secrets.redact(quote(token)) == MASK and secrets.redact("static-secret-1") == MASK


def test_findings_name_forms_never_values() -> None:
    secrets = SecretSet.of([SECRET])
    text = f"{SECRET} and {base64.b64encode(SECRET.encode()).decode()} and {quote(SECRET, safe='')}"
    found = secrets.findings(text)
    assert found == ["base64", "percent-encoded", "plain"]
    assert not any(SECRET in name for name in found)
    assert secrets.findings("nothing here") == []


def test_values_shorter_than_the_safe_minimum_are_not_patterns() -> None:
    short = "x" * (MIN_LENGTH - 1)
    assert too_short(short) and not too_short("x" * MIN_LENGTH) and not too_short("")
    secrets = SecretSet.of([short])
    assert secrets.redact(f"text {short}") == f"text {short}" and secrets.values == ()


def test_binary_bodies_are_masked_without_decoding() -> None:
    secrets = SecretSet.of([SECRET])
    body = b"\x89PNG\xff" + SECRET.encode() + b"\x00"
    assert secrets.redact_bytes(body) == b"\x89PNG\xff***\x00"


def test_a_few_hundred_forms_redact_in_one_pass() -> None:
    values = [f"secret-value-{i:04d}-abcdef" for i in range(60)]
    secrets = SecretSet.of(values, users=["smoke", "app"])
    assert len(secrets.forms) > 300
    text = " ".join(base64.b64encode(f"app:{v}".encode()).decode() for v in values[::7])
    assert set(secrets.redact(text).split()) == {MASK}


TREES = [
    {"name": "SG-1 · health", "labels": [{"name": "tag", "value": "SG-1"}], "steps": [], "time": 1.5, "ok": True},
    {"message": "token=tok-7f3a9c2e5d1b4a86 rejected", "nested": [["x", {"tok-7f3a9c2e5d1b4a86": None}]]},
    {"url": "https://h/?t=tok%2D7f3a9c2e5d1b4a86".lower(), "b64": base64.b64encode(b"u:tok-7f3a9c2e5d1b4a86").decode()},
    {"quoted": f"say {SECRET!r} and {json.dumps(SECRET)}", "plain": SECRET, "tuple": ("a", SECRET)},
    {"split across strings": ["tok-7f3a9c", "2e5d1b4a86"], 7: "seven", None: "none"},
]


@pytest.mark.parametrize("secret", ["tok-7f3a9c2e5d1b4a86", SECRET], ids=["JSON-safe secret", "secret JSON escapes"])
@pytest.mark.parametrize("tree", TREES, ids=["clean", "in values and keys", "encoded", "escaped", "split"])
def test_a_tree_is_redacted_like_string_by_string_whether_judged_whole_or_walked(secret: str, tree: object) -> None:
    secrets = SecretSet.of([secret])

    def walked(node: object) -> object:
        if isinstance(node, str):
            return secrets.redact(node)
        if isinstance(node, dict):
            return {k if k is None or isinstance(k, int) else secrets.redact(k): walked(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [walked(v) for v in node]
        return node

    expected = json.dumps(walked(tree), ensure_ascii=False, indent=2)
    assert json.dumps(secrets.redact_tree(tree), ensure_ascii=False, indent=2) == expected
    assert secrets.redact_json(tree, indent=2) == expected
    assert secret not in expected and json.dumps(secret)[1:-1] not in expected


def test_a_tree_that_json_cannot_write_is_still_redacted_string_by_string() -> None:
    secrets = SecretSet.of(["tok-7f3a9c2e5d1b4a86"])
    marker = object()
    assert secrets.redact_tree({"a": ["tok-7f3a9c2e5d1b4a86", marker]}) == {"a": [MASK, marker]}


def test_a_number_key_that_is_a_secret_is_masked_and_other_keys_keep_their_type() -> None:
    secrets = SecretSet.of(["73019284"])
    assert secrets.redact_tree({73019284: "pin", 7: "seven", None: "none"}) == {MASK: "pin", 7: "seven", None: "none"}
