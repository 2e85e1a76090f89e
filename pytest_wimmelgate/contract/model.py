"""The backend contract as frozen data: steps (requests), captures, and what each check expects.

`parse.parse_backend` builds these from the environment's ``backend`` section over the
shipped default (`wimmelwelt.yaml`); `client.ContractClient` executes the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pytest_wimmelgate.contract.templates import Template, TemplateTree

#: Run values a template may name (besides captured values); the checks fill them in.
RUN_VALUES = frozenset(
    {
        "run.id",  # this run's id; every record a check creates is tagged with it
        "run.fresh",  # a fresh name, new for every request: "<run id>-<n>"
        "account.username",  # the smoke account (smoke_account section)
        "account.password",
        "message.text",  # the text SG-5 sends and expects back
        "upload.name",  # SG-6/DR-4: a file name, the bytes and their type
        "upload.bytes",
        "upload.content_type",
        "push.text",  # SG-7: the test push's text
    }
)


@dataclass(frozen=True)
class Condition:
    """A JMESPath expression over an answer's JSON body; truthy means "holds"."""

    text: str
    compiled: Any = field(compare=False, repr=False)

    def holds(self, body: Any) -> bool:
        return bool(self.compiled.search(body))


@dataclass(frozen=True)
class Capture:
    """A value taken from an answer: a JMESPath into the JSON body, or a header."""

    name: str
    source: str  # "json" | "header"
    expression: str
    secret: bool = False
    required: bool = True
    compiled: Any = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        return f"{self.source}: {self.expression}"


@dataclass(frozen=True)
class FilePart:
    """One file of a multipart body."""

    content: Template
    filename: Template | None = None
    content_type: Template | None = None


@dataclass(frozen=True)
class Body:
    """A request body: none, a JSON template, raw bytes, or multipart form fields and files."""

    kind: str = "none"  # none | json | raw | multipart
    json: TemplateTree | None = None
    raw: Template | None = None
    fields: Mapping[str, Template] = field(default_factory=dict)
    files: Mapping[str, FilePart] = field(default_factory=dict)

    def templates(self) -> list[Template]:
        found: list[Template] = []
        if self.raw is not None:
            found.append(self.raw)
        found.extend(self.fields.values())
        for part in self.files.values():
            found.extend(t for t in (part.content, part.filename, part.content_type) if t is not None)
        return found

    @property
    def names(self) -> tuple[str, ...]:
        tree = self.json.names if self.json is not None else ()
        return (*tree, *(n for t in self.templates() for n in t.names))


@dataclass(frozen=True)
class Step:
    """One request of the contract and what its answer must be."""

    name: str
    method: str
    path: Template
    expect: tuple[int, ...]
    headers: Mapping[str, Template] = field(default_factory=dict)
    query: Mapping[str, Template] = field(default_factory=dict)
    body: Body = field(default_factory=Body)
    captures: tuple[Capture, ...] = ()
    session: bool = False
    touches_database: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Every value name this step's templates use."""
        found = [*self.path.names, *self.body.names]
        for template in (*self.headers.values(), *self.query.values()):
            found.extend(template.names)
        return tuple(found)

    def label(self) -> str:
        return f"{self.method} {self.path.literal or '/'} ({self.name})"


@dataclass(frozen=True)
class Contract:
    """Common headers, how a session token goes back, and the named steps."""

    steps: Mapping[str, Step]
    headers: Mapping[str, Template] = field(default_factory=dict)
    session_headers: Mapping[str, Template] = field(default_factory=dict)

    def step(self, name: str) -> Step:
        return self.steps[name]

    def has(self, name: str) -> bool:
        return name in self.steps

    def database_steps(self) -> tuple[Step, ...]:
        """The steps marked ``touches_database`` (what honest sampling may replay)."""
        return tuple(step for step in self.steps.values() if step.touches_database)


@dataclass(frozen=True)
class ProbeSettings:
    """A request a check judges: its step, the statuses that count as good, a condition."""

    request: str
    ok_status: tuple[int, ...] = (200,)
    condition: Condition | None = None


@dataclass(frozen=True)
class ReadinessSettings(ProbeSettings):
    """SG-2/SG-3: ready = ok_status (+ condition); with the database blocked = not_ready_status."""

    not_ready_status: tuple[int, ...] = (503,)


@dataclass(frozen=True)
class RateLimit:
    """SG-4's rate limit: the status after too many failed logins, or declared absent."""

    status: int | None = 429
    retry_after_header: str | None = "Retry-After"
    max_attempts: int = 10
    absent_reason: str | None = None


@dataclass(frozen=True)
class AuthSettings:
    wrong_password_status: tuple[int, ...] = (401,)
    no_token_status: tuple[int, ...] = (401,)
    rate_limit: RateLimit = field(default_factory=RateLimit)


@dataclass(frozen=True)
class PushSettings:
    """SG-7: delivery confirmed through a status request, or declared not verifiable."""

    delivery_request: str | None = None
    delivered: Condition | None = None
    pending: Condition | None = None
    timeout_s: float = 10.0
    not_verifiable: str | None = None


@dataclass(frozen=True)
class SweepEntry:
    """How records of one kind are found by run tag and deleted (end of run, ``wimmelgate sweep``)."""

    kind: str
    list: str
    ids: str  # capture of the list step: ids, or objects with "id" (and "tag", "created")
    delete: str
    bind: str  # the name the delete step's templates use for one id
    list_all: str | None = None  # every record of the account, for --older-than


@dataclass(frozen=True)
class CleanupSettings:
    """Teardown deletes that fail for a dependency are retried until it recovers, within a bound."""

    retry_bound_s: float = 30.0
    retry_interval_s: float = 1.0


@dataclass(frozen=True)
class BackendSettings:
    """The parsed ``backend`` section: where the backend is and how every backend check talks to it."""

    source: str
    base_url: str
    contract: Contract
    timeout_s: float = 5.0
    expect_version: str | None = None
    expect_commit: str | None = None
    expect_storage: str | None = None
    gone_status: tuple[int, ...] = (404,)
    health: ProbeSettings = field(default_factory=lambda: ProbeSettings("health"))
    version: str = "health"
    readiness: ReadinessSettings = field(default_factory=lambda: ReadinessSettings("readiness"))
    auth: AuthSettings = field(default_factory=AuthSettings)
    push: PushSettings = field(default_factory=PushSettings)
    sweep: tuple[SweepEntry, ...] = ()
    cleanup: CleanupSettings = field(default_factory=CleanupSettings)
