"""Secret values and their redaction from every output the plugin writes.

A `SecretSet` holds the run's secret values (and the user names they pair with) and
derives for each the texts that give it away (`secret_forms.derive_forms`: as written,
percent-encoded, base64 also inside ``Basic base64(user:secret)``, JSON/repr/XML
escaped, the lines of a multi-line value). All forms are matched by one compiled
trie-shaped regular expression, so redacting costs one scan of the text however many
forms there are. Values shorter than `MIN_LENGTH` are not used as patterns (`too_short`
says which); the environment check reports them.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_wimmelgate.config.credentials import auth_token, basic_credentials, parse_header_list, parse_uri
from pytest_wimmelgate.config.secret_forms import MIN_LENGTH, PLAIN, derive_forms, too_short, upper_hex

__all__ = [
    "MASK",
    "MIN_LENGTH",
    "SecretSet",
    "derive_forms",
    "looks_secret",
    "secret_parts",
    "too_short",
    "uri_secrets",
]

SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASS|CREDENTIAL|HEADERS|AUTH|PRIVATE", re.I)
USER_NAME = re.compile(r"(?:^|_)(?:USER|USERNAME|LOGIN)$", re.I)
NOT_SECRET_NAMES = frozenset({"AWS_ACCESS_KEY_ID_FINGERPRINT", "PYTEST_ADDOPTS", "KEYBOARD"})
MASK = "***"
TRIE_LIMIT = 100
CACHE_SIZE, CACHE_TEXT_LIMIT = 4096, 512  # redacted short texts remembered per generation of the set
B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_=")
JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # the characters json.dumps(ensure_ascii=False) escapes


def looks_secret(name: str) -> bool:
    """Whether a variable or key name suggests its value is a secret."""
    return bool(SECRET_NAME.search(name)) and name.upper() not in NOT_SECRET_NAMES


def uri_secrets(value: str) -> list[str]:
    """The secret parts of a ``scheme://user:pass@host`` value: the password and the
    user-info, as written and URL-decoded. Works for multi-host MongoDB URIs too."""
    uri = parse_uri(value)
    if uri is None or not uri.has_password:
        return []
    parts = {uri.password_raw, uri.password, uri.userinfo_raw, uri.userinfo}
    return [p for p in parts if p]


def secret_parts(name: str, value: str) -> set[str]:
    """Every text of one variable that must be hidden (empty for a public variable)."""
    found: set[str] = set()
    if not value:
        return found
    if looks_secret(name):
        found.update({value, value.strip()})
    found.update(uri_secrets(value))
    found.update(_header_values(value))
    return found


def user_names(name: str, value: str) -> set[str]:
    """User names a variable gives (``*_USER`` values, the user of a URI with a password):
    the halves of ``user:secret`` pairs, not secrets themselves."""
    found = {value.strip()} if USER_NAME.search(name) and value.strip() else set()
    uri = parse_uri(value)
    if uri is not None and uri.has_password and uri.username:
        found.update({uri.username, uri.username_raw})
    return found


class _Matcher:
    """The compiled patterns of one generation of a secret set (replaced whole by `add`).

    Every form up to `TRIE_LIMIT` characters, and the first `TRIE_LIMIT` characters of
    each longer one (its anchor), go into one trie-shaped pattern: ``first`` tells in one
    pass whether a text holds anything at all; ``every`` (the same inside a lookahead,
    compiled on the first hit) finds overlapping hits so their union is masked. Only when
    an anchor is found are the long forms (whole keys, their escapes) looked up whole.
    """

    def __init__(self, forms: Mapping[str, str]) -> None:
        self.forms = forms
        self.values = tuple(sorted(forms, key=lambda f: (-len(f), f)))
        self.long = tuple(f for f in self.values if len(f) > TRIE_LIMIT)
        short = [f for f in self.values if len(f) <= TRIE_LIMIT]
        self._anchors = frozenset(f[:TRIE_LIMIT] for f in self.long)
        # a bare anchor hides the short forms that are its prefixes: keep the longest of them
        self._within = {a: max((f for f in short if a.startswith(f)), key=len, default="") for a in self._anchors}
        patterns = sorted({*short, *self._anchors}, key=lambda f: (-len(f), f))
        self._source = ""
        self.first: re.Pattern[str] | None = None
        if patterns:
            try:
                self._source = _trie_pattern(patterns)
                self.first = re.compile(self._source)
            except (RecursionError, re.error):  # pathological nesting: a flat alternation, longest first
                self._source = "|".join(re.escape(f) for f in patterns)
                self.first = re.compile(self._source)
        self._every: re.Pattern[str] | None = None
        self._raw: re.Pattern[bytes] | None = None
        self._cache: dict[str, str] = {}
        #: no form has a character JSON escapes: a form inside a string is in the tree's JSON text as it is
        self.json_safe = not any(JSON_ESCAPED.search(form) for form in forms)

    def __bool__(self) -> bool:
        return bool(self.forms)

    def redacted(self, text: str) -> str:
        """``text`` with every form masked; short texts are remembered (reports repeat them a lot)."""
        if len(text) > CACHE_TEXT_LIMIT:
            spans = self.spans(text)
            return _masked(text, spans, self.forms) if spans else text
        known = self._cache.get(text)
        if known is None:
            spans = self.spans(text)
            known = _masked(text, spans, self.forms) if spans else text
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[text] = known
        return known

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """``(start, end, form)`` of every hit, overlapping ones included; empty when clean.

        A text with lower-case percent-escapes is scanned once more with them upper-cased."""
        found = self._spans(text)
        if "%" in text:
            upper = upper_hex(text)
            if upper != text:
                found += self._spans(upper)
        return found

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        hit = self.first.search(text) if self.first is not None else None
        if hit is None:
            return []
        if self._every is None:
            self._every = re.compile(f"(?=({self._source}))")
        found, anchored = [], False
        for match in self._every.finditer(text, hit.start()):
            start, matched = match.start(), match.group(1)
            if matched in self._anchors:
                anchored = True
                if matched not in self.forms:
                    matched = self._within[matched]
            if matched:
                found.append((start, start + len(matched), matched))
        for form in self.long if anchored else ():
            start = text.find(form)
            while start >= 0:
                found.append((start, start + len(form), form))
                start = text.find(form, start + 1)
        return found

    def raw_spans(self, body: bytes) -> list[tuple[int, int]]:
        if self._raw is None:
            flat = "|".join(re.escape(f) for f in self.values)
            self._raw = re.compile(f"(?=({flat}))".encode())
        return [(m.start(), m.end(1)) for m in self._raw.finditer(body)]


class SecretSet:
    """The run's secrets and every derived form; one instance per process serves every output.

    `add` lets values captured at run time (session tokens) join it the moment they are
    known, derived forms included, so everything written afterwards is redacted too.
    ``values`` lists the secrets, ``forms`` every masked text with the name of its form.
    """

    def __init__(self, values: Iterable[str] = (), *, users: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self.secrets: frozenset[str] = frozenset(v for v in values if v and not too_short(v))
        self.users: frozenset[str] = frozenset(u for u in users if u)
        self._matcher = _Matcher(_all_forms(self.secrets, self.users))
        self._values = tuple(sorted(self.secrets, key=lambda v: (-len(v), v)))

    @classmethod
    def collect(
        cls,
        variables: Mapping[str, str],
        *,
        extra_names: Iterable[str] = (),
        extra_values: Iterable[str] = (),
    ) -> SecretSet:
        names = set(extra_names)
        found: set[str] = set()
        users: set[str] = set()
        for value in extra_values:
            found.update(secret_parts("SECRET", value))
            users.update(user_names("SECRET", value))
        for name, value in variables.items():
            found.update(secret_parts("SECRET" if name in names else name, value))
            users.update(user_names(name, value))
        return cls(found, users=users)

    @classmethod
    def of(cls, values: Iterable[str], *, users: Iterable[str] = ()) -> SecretSet:
        return cls(values, users=users)

    @property
    def values(self) -> tuple[str, ...]:
        """The secret values themselves (not their derived forms), longest first."""
        return self._values

    def to_data(self) -> dict[str, list[str]]:
        """A JSON-safe description that `from_data` turns back into the same set (for xdist workers)."""
        return {"secrets": sorted(self.secrets), "users": sorted(self.users)}

    @classmethod
    def from_data(cls, data: Mapping[str, Iterable[str]]) -> SecretSet:
        return cls(data.get("secrets", ()), users=data.get("users", ()))

    @property
    def forms(self) -> Mapping[str, str]:
        """Every masked text → the name of its form (``plain``, ``base64`` …), never shown with the text."""
        return self._matcher.forms

    def add(self, *values: str, users: Iterable[str] = ()) -> None:
        """Hide these values (and their forms) too, from now on, in every output using this set."""
        fresh = {v for v in values if v and not too_short(v)} - self.secrets
        fresh_users = set(users) - self.users
        if not fresh and not fresh_users:
            return
        with self._lock:
            self.secrets = self.secrets | fresh
            self.users = self.users | fresh_users
            self._matcher = _Matcher(_all_forms(self.secrets, self.users))
            self._values = tuple(sorted(self.secrets, key=lambda v: (-len(v), v)))

    def __add__(self, other: SecretSet) -> SecretSet:
        return SecretSet(self.secrets | other.secrets, users=self.users | other.users)

    def findings(self, text: str) -> list[str]:
        """Names of the forms found in ``text`` (sorted, each once); never the texts."""
        matcher = self._matcher
        return sorted({matcher.forms.get(form, PLAIN) for _, _, form in matcher.spans(text)}) if matcher else []

    def redact(self, text: str) -> str:
        matcher = self._matcher
        if not matcher:
            return text
        return matcher.redacted(text)

    def redact_bytes(self, body: bytes) -> bytes:
        matcher = self._matcher
        if not matcher:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            spans = matcher.raw_spans(body)
            return _masked_raw(body, spans) if spans else body
        return self.redact(text).encode("utf-8")

    def redact_tree(self, node: Any) -> Any:
        """A copy of a JSON-like tree with every string redacted; the tree itself when one scan of its JSON
        text (`_clean_json`) finds no form: only a tree with a hit is walked string by string."""
        if not self._matcher:
            return node
        if isinstance(node, (dict, list, tuple)) and self._clean_json(node) is not None:
            return node
        return self._redacted_tree(node)

    def redact_json(self, node: Any, **options: Any) -> str:
        """``json.dumps(redact_tree(node), ensure_ascii=False, **options)``; a clean tree is serialised once."""
        text = self._clean_json(node, **options)
        return text if text is not None else json.dumps(self._redacted_tree(node), ensure_ascii=False, **options)

    def _clean_json(self, node: Any, **options: Any) -> str | None:
        """The JSON text of ``node`` when no string or key in it holds a form, else ``None`` (also when unsure):
        with `json_safe` forms, a form inside a string is in the text unchanged; a hit across strings only
        costs the walk."""
        if (matcher := self._matcher) and not matcher.json_safe:
            return None
        try:
            text = json.dumps(node, ensure_ascii=False, **options)
        except (TypeError, ValueError):  # not JSON-able: the walk keeps what it cannot redact as it is
            return None
        return None if matcher and matcher.spans(text) else text

    def _redacted_tree(self, node: Any) -> Any:
        if isinstance(node, str):
            return self.redact(node)
        if isinstance(node, Mapping):
            return {self._redacted_key(k): self._redacted_tree(v) for k, v in node.items()}
        if isinstance(node, (list, tuple)):
            return [self._redacted_tree(v) for v in node]
        return node

    def _redacted_key(self, key: Any) -> Any:
        """A non-string key keeps its type (JSON writes it) unless its text holds a form."""
        clean = self.redact(text := key if isinstance(key, str) else str(key))
        return key if clean == text else clean


def _all_forms(secrets: Iterable[str], users: frozenset[str]) -> dict[str, str]:
    forms: dict[str, str] = {}
    for value in sorted(secrets):
        for text, name in derive_forms(value, users - {value}).items():
            forms.setdefault(text, name)
    return forms


def _masked(text: str, spans: list[tuple[int, int, str]], forms: Mapping[str, str]) -> str:
    """``text`` with every span (overlapping ones joined) replaced by one mask; a base64
    span grows to the whole base64 word around it (its edge characters carry secret bits)."""
    ranges = []
    for start, end, found in spans:
        if "base64" in forms.get(found, ""):
            while start > 0 and text[start - 1] in B64_ALPHABET:
                start -= 1
            while end < len(text) and text[end] in B64_ALPHABET:
                end += 1
        ranges.append((start, end))
    out, position = [], 0
    for start, end in _merged(ranges):
        out.append(text[position:start])
        out.append(MASK)
        position = end
    out.append(text[position:])
    return "".join(out)


def _masked_raw(body: bytes, spans: list[tuple[int, int]]) -> bytes:
    out, position = [], 0
    for start, end in _merged(spans):
        out.append(body[position:start])
        out.append(MASK.encode())
        position = end
    out.append(body[position:])
    return b"".join(out)


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _trie_pattern(words: Iterable[str]) -> str:
    """One regular expression matching any of ``words``, shaped as a trie (shared prefixes
    once), so a scan costs about one step per character instead of one per word."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        branches = []
        for char in sorted(k for k in node if k):
            child, chain = node[char], char
            while len(child) == 1 and "" not in child:  # collapse a chain without branches
                ((next_char, child),) = child.items()
                chain += next_char
            branches.append(re.escape(chain) + render(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return render(root)


def _header_values(value: str) -> list[str]:
    """Values of secret-named headers in an OTLP-style list ``k=v,k2=v2``, as written and
    URL-decoded, with the token of ``Bearer x`` (any case of any known scheme) also as ``x``
    and the password of ``Basic base64(user:password)``.

    ``Authorization=bearer%20abc,x-scope=prod`` yields the token, never ``prod``.
    """
    if "=" not in value:
        return []
    found: list[str] = []
    for header in parse_header_list(value).headers:
        if not header.value or not looks_secret(header.name):
            continue
        found.extend((header.raw_value, header.value))
        token = auth_token(header.value)
        if token:
            found.append(token)
            credentials = basic_credentials(token) if header.value.lower().startswith("basic") else None
            if credentials and credentials[1]:
                found.append(credentials[1])
    return found
