"""MongoDB: the plugin's one Mongo client factory and the reads the checks need (pymongo).

Every stage has a short timeout (``timeout_s``, default 5 s): server selection, connect and
socket reads, and each read runs under ``pymongo.timeout`` so the whole answer has a
deadline too. A stopped or paused server becomes a `ProbeError` within that bound.

The URI may hold credentials and is never quoted: errors and evidence name the hosts,
database and collection (``mongodb h1,h2 ops.restore_tests``) and the exception's class.
Bad connection settings or a URI without the database a read needs are ``configuration
missing``; any failure while talking to the server is ``infrastructure unreachable``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.config.credentials import parse_uri
from pytest_wimmelgate.errors import Category, ProbeError

DEFAULT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Documents:
    """What one read returned, and where from (a label without credentials)."""

    where: str
    documents: tuple[Mapping[str, Any], ...]


def hosts_label(uri: str) -> str:
    """``mongodb h1,h2``: the URI's hosts, nothing of its credentials."""
    parts = parse_uri(uri)
    return f"mongodb {','.join(parts.host_names if parts is not None else ()) or '?'}"


@contextmanager
def mongo_client(uri: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[Any]:
    """A connected-on-demand `pymongo.MongoClient` with short timeouts, closed afterwards."""
    import pymongo

    ms = max(1, int(timeout_s * 1000))
    try:
        client: Any = pymongo.MongoClient(
            uri,
            serverSelectionTimeoutMS=ms,
            connectTimeoutMS=ms,
            socketTimeoutMS=ms,
            tz_aware=True,
            appname="pytest-wimmelgate",
        )
    except Exception as exc:  # ConfigurationError, InvalidURI, TypeError ...: never echo the URI
        raise ProbeError(
            Category.CONFIG, f"{hosts_label(uri)}: bad connection settings ({exc.__class__.__name__})"
        ) from None
    try:
        yield client
    finally:
        client.close()


def find(
    uri: str,
    collection: str,
    *,
    database: str | None = None,
    projection: Mapping[str, Any] | None = None,
    sort: tuple[str, int] | None = None,
    limit: int = 0,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> Documents:
    """The documents of ``database.collection`` (``database`` None: the one the URI names)."""
    import pymongo
    from pymongo.errors import PyMongoError

    hosts = hosts_label(uri)
    with mongo_client(uri, timeout_s) as client:
        try:
            db = client[database] if database else client.get_default_database()
        except Exception:
            raise ProbeError(Category.CONFIG, f"{hosts}: the URI names no database") from None
        where = f"{hosts} {db.name}.{collection}"
        try:
            with pymongo.timeout(timeout_s):
                cursor = db[collection].find({}, dict(projection) if projection is not None else None)
                if sort is not None:
                    cursor = cursor.sort(*sort)
                if limit:
                    cursor = cursor.limit(limit)
                documents = tuple(cursor)
        except PyMongoError as exc:
            raise ProbeError(Category.INFRASTRUCTURE, f"{where}: {exc.__class__.__name__}") from None
    return Documents(where, documents)
