"""The Wimmelwelt service behind every API dialect: users, sessions, messages, uploads, push.

Dialects (`dialects/`) map HTTP requests and answers onto these operations; everything a
dialect must not decide on its own lives here: the stored documents, the login limit,
the storage fallback, the readiness checks, the fault switches and the run-tag stats.
Operations raise pymongo errors, `StorageUnavailable` or `BadRequest`; `App` turns them
into the dialect's error answers.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_wimmelgate.sandbox.service.auth import LoginLimiter, TokenSigner, hash_password, verify_password
from pytest_wimmelgate.sandbox.service.fault_switches import EvenlySpaced
from pytest_wimmelgate.sandbox.service.jsonlog import utc_timestamp
from pytest_wimmelgate.sandbox.service.session_store import SessionRegistry
from pytest_wimmelgate.sandbox.service.storage import StorageUnavailable

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.backend_settings import BackendSettings
    from pytest_wimmelgate.sandbox.service.database import Database
    from pytest_wimmelgate.sandbox.service.instruments import Metrics
    from pytest_wimmelgate.sandbox.service.jsonlog import JsonLog
    from pytest_wimmelgate.sandbox.service.push import PushDispatcher
    from pytest_wimmelgate.sandbox.service.storage import FileStorage

READINESS_BUDGET_S = 1.2
TRAFFIC_USER = "traffic-bot"
PROBE_CACHE_SIZE = 256
RECORD_KINDS = {"messages": "messages", "uploads": "uploads", "push": "push_deliveries"}


def traffic_password(auth_secret: str) -> str:
    """The synthetic traffic user's password, derived so every backend agrees on it."""
    return hashlib.sha256(f"traffic:{auth_secret}".encode()).hexdigest()


def user_object_id(username: str) -> str:
    """A user's stable object id (the same on every backend, no stored field needed)."""
    return hashlib.sha256(f"user:{username}".encode()).hexdigest()[:10]


class InjectedFault(Exception):
    """A fault switch failed this request on purpose (the dialect answers its 500)."""


@dataclass(frozen=True)
class LoginOutcome:
    """A token, or why there is none: ``retry_after`` set when rate limited."""

    token: str | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class Readiness:
    ok: bool
    checks: dict[str, str] = field(default_factory=dict)
    failing: list[str] = field(default_factory=list)


class Service:
    """One backend's state and operations; thread-safe, shared by all request threads."""

    def __init__(
        self,
        settings: BackendSettings,
        *,
        db: Database,
        storage: FileStorage,
        push: PushDispatcher,
        metrics: Metrics,
        log: JsonLog,
    ) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.push = push
        self.metrics = metrics
        self.log = log
        self.error_fault = EvenlySpaced(settings.faults.error_rate)
        self._flap_fault = EvenlySpaced(settings.faults.readiness_flap_rate)
        self.sessions = SessionRegistry(TokenSigner(settings.auth_secret))
        self.limiter = LoginLimiter(settings.login_limit)
        self._checks = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="readiness")
        self._seeded = threading.Event()
        self._probe_cache: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self._probe_lock = threading.Lock()

    def close(self) -> None:
        self._checks.shutdown(wait=False, cancel_futures=True)

    # -- users and sessions ---------------------------------------------------------------

    def seed_users(self) -> None:
        """Create or refresh the smoke user and the synthetic traffic user."""
        users = [(TRAFFIC_USER, traffic_password(self.settings.auth_secret), "traffic")]
        if self.settings.smoke_password:
            users.insert(0, (self.settings.smoke_user, self.settings.smoke_password, "smoke"))
        for username, password, role in users:
            self.db.upsert(
                "users",
                username,
                {"password_hash": hash_password(password), "role": role, "updated_at": utc_timestamp()},
            )
        self._seeded.set()

    @property
    def ready(self) -> bool:
        """The users are seeded: a client may log in."""
        return self._seeded.is_set()

    def login(self, username: str, password: str, tag: str | None) -> LoginOutcome:
        """Check the password under the per-username limit; a success opens a session."""
        retry_after = self.limiter.retry_after(username)
        if retry_after is not None:
            self.log.warning("login rate limited", event="auth.429", username=username)
            return LoginOutcome(retry_after=retry_after)
        user = self.db.get("users", username)
        if user is not None and verify_password(password, str(user.get("password_hash", ""))):
            self.limiter.reset(username)
            return LoginOutcome(token=self.sessions.open(username, tag))
        self.limiter.record_failure(username)
        self.log.warning("login failed", event="auth.401", username=username)
        return LoginOutcome()

    def signup(self, username: str, password: str, tag: str | None) -> str | None:
        """Create a user and open its first session; None when the username exists."""
        from pymongo.errors import DuplicateKeyError

        if self.db.get("users", username) is not None:
            return None
        try:
            self.db.insert(
                "users",
                {
                    "_id": username,
                    "password_hash": hash_password(password),
                    "role": "user",
                    "updated_at": utc_timestamp(),
                },
            )
        except DuplicateKeyError:
            return None
        self.log.info("user signed up", event="auth.signup", username=username)
        return self.sessions.open(username, tag)

    def authenticate(self, token: str) -> str | None:
        return self.sessions.verify(token)

    def logout(self, token: str) -> bool:
        return self.sessions.end(token)

    # -- messages -------------------------------------------------------------------------

    def create_message(self, sender: str, *, to: str, body: str, tag: str, run_id: str | None) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "_id": uuid.uuid4().hex,
            "from": sender,
            "to": to,
            "body": body,
            "tag": tag,
            "run_id": run_id,
            "created_at": utc_timestamp(),
        }
        self.db.insert("messages", doc)
        return doc

    def get_message(self, user: str, message_id: str) -> dict[str, Any] | None:
        """The message, when ``user`` sent or received it."""
        doc = self.db.get("messages", message_id)
        if doc is None or user not in (doc.get("from"), doc.get("to")):
            return None
        return doc

    def list_messages(self, user: str, filters: dict[str, str], limit: int = 200) -> list[dict[str, Any]]:
        """Messages ``user`` sent or received, matching ``filters`` (stored field names)."""
        query: dict[str, Any] = {"$or": [{"from": user}, {"to": user}], **filters}
        return self.db.find("messages", query, limit)

    def delete_message(self, user: str, message_id: str) -> bool:
        return self.db.delete("messages", {"_id": message_id, "from": user})

    def probe_messages(self, user: str, filters: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """`list_messages` used as a readiness probe (a dialect without readiness endpoint).

        Counted in ``readiness_checks_total``; ``readiness_flap_rate`` fails a share of
        them; with ``readiness_ignores_db`` a failing database is masked: the last answer
        to the same query (or an empty one) comes from a cache.
        """
        if self._flap_fault.hit():
            self.metrics.readiness.labels(result="fail").inc()
            raise InjectedFault("readiness_flap_rate")
        key = repr((user, sorted(filters.items()), limit))
        try:
            found = self.list_messages(user, filters, limit)
        except Exception as exc:
            if not self.settings.faults.readiness_ignores_db:
                self.metrics.readiness.labels(result="fail").inc()
                raise
            self.log.warning("database failed, answering from the cache", error=exc.__class__.__name__)
            with self._probe_lock:
                found = list(self._probe_cache.get(key, []))
        else:
            with self._probe_lock:
                self._probe_cache[key] = found
                self._probe_cache.move_to_end(key)
                while len(self._probe_cache) > PROBE_CACHE_SIZE:
                    self._probe_cache.popitem(last=False)
        self.metrics.readiness.labels(result="ok").inc()
        return found

    # -- uploads --------------------------------------------------------------------------

    def store_upload(
        self, owner: str, *, name: str, tag: str, data: bytes, run_id: str | None, content_type: str = ""
    ) -> dict[str, Any]:
        """Write the bytes (S3, or the local fallback) and record them; the record."""
        upload_id = uuid.uuid4().hex
        key = f"uploads/{upload_id}"
        stored_in = self.storage.put(key, data)
        doc: dict[str, Any] = {
            "_id": upload_id,
            "owner": owner,
            "tag": tag,
            "name": name[:255],
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "storage": stored_in,
            "run_id": run_id,
            "created_at": utc_timestamp(),
        }
        if content_type:
            doc["content_type"] = content_type[:255]
        try:
            self.db.insert("uploads", doc)
        except Exception:
            with contextlib.suppress(StorageUnavailable):
                self.storage.delete(key, stored_in)
            raise
        if stored_in == "local-fallback":
            self.log.warning("upload stored in local fallback", event="storage.fallback", upload_id=upload_id)
        return doc

    def find_upload(self, upload_id: str, owner: str | None) -> dict[str, Any] | None:
        """The upload's record (only ``owner``'s, unless owner is None)."""
        doc = self.db.get("uploads", upload_id)
        if doc is None or (owner is not None and doc.get("owner") != owner):
            return None
        return doc

    def upload_content(self, doc: dict[str, Any]) -> tuple[bytes, str]:
        """The bytes and the store that served them; raises `ObjectMissing`."""
        return self.storage.get(f"uploads/{doc['_id']}", str(doc.get("storage")))

    def delete_upload(self, doc: dict[str, Any]) -> None:
        self.storage.delete(f"uploads/{doc['_id']}", str(doc.get("storage")))
        self.db.delete("uploads", {"_id": doc["_id"]})

    # -- push -----------------------------------------------------------------------------

    def submit_push(self, owner: str, tag: str, run_id: str | None) -> str:
        """A tracked delivery (stored, readable, deletable); its id."""
        return self.push.submit(owner, tag, run_id)

    def fire_push(self) -> None:
        """An untracked delivery: dispatched and counted, no record left behind."""
        self.push.dispatch()

    def get_push(self, owner: str, delivery_id: str) -> dict[str, Any] | None:
        doc = self.db.get("push_deliveries", delivery_id)
        if doc is None or doc.get("owner") != owner:
            return None
        return doc

    def delete_push(self, owner: str, delivery_id: str) -> bool:
        return self.db.delete("push_deliveries", {"_id": delivery_id, "owner": owner})

    # -- probes and stats -----------------------------------------------------------------

    def readiness(self) -> Readiness:
        """MongoDB (unless ``readiness_ignores_db``) and the file storage, within a budget."""
        faults = self.settings.faults
        pending: dict[str, concurrent.futures.Future[str]] = {}
        if not faults.readiness_ignores_db:
            pending["mongodb"] = self._checks.submit(self._check_mongodb)
        pending["storage"] = self._checks.submit(self.storage.check)
        deadline = time.monotonic() + READINESS_BUDGET_S
        checks: dict[str, str] = {}
        failing: list[str] = []
        for name, future in pending.items():
            try:
                checks[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except concurrent.futures.TimeoutError:
                checks[name] = "fail: no answer within the readiness budget"
                failing.append(name)
            except Exception as exc:
                checks[name] = f"fail: {exc.__class__.__name__}"
                failing.append(name)
        if self._flap_fault.hit():
            checks["flap"] = "fail: injected fault (readiness_flap_rate)"
            failing.append("flap")
        self.metrics.readiness.labels(result="fail" if failing else "ok").inc()
        return Readiness(not failing, checks, failing)

    def _check_mongodb(self) -> str:
        try:
            self.db.ping()
        except Exception as exc:
            self.log.error("MongoDB ping failed", event="mongodb.ping_failed", error=exc.__class__.__name__)
            raise
        return "ok"

    def stats(self) -> dict[str, Any]:
        """Open sessions and stored records, in total and per run tag (``/_sandbox/stats``)."""
        sessions_open, sessions_by_tag = self.sessions.counts()
        records: dict[str, int] = {}
        by_tag: dict[str, dict[str, int]] = {}

        def entry(tag: str) -> dict[str, int]:
            return by_tag.setdefault(tag, {"messages": 0, "uploads": 0, "push": 0, "sessions": 0})

        for kind, collection in RECORD_KINDS.items():
            records[kind], counts = self.db.tag_counts(collection)
            for tag, count in counts.items():
                entry(tag)[kind] = count
        for tag, count in sessions_by_tag.items():
            entry(tag)["sessions"] = count
        return {"sessions_open": sessions_open, "records": records, "by_tag": dict(sorted(by_tag.items()))}
