"""The one Mongo client factory against a real MongoDB wire server (SecantusDB) and against
a port that refuses or a server that never answers: bounded, categorised, no credentials."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymongo
import pytest

from pytest_wimmelgate.errors import Category, ProbeError
from pytest_wimmelgate.probes import mongo
from tests.domain.conftest import free_port, mongo_uri, unique  # noqa: F401  (fixtures)


def seed(uri: str, database: str, docs: list[dict[str, Any]]) -> None:
    client: Any = pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000)
    try:
        client[database]["things"].insert_many(docs)
    finally:
        client.close()


def test_find_sorts_limits_projects_and_returns_aware_dates(mongo_uri: str, unique: str) -> None:  # noqa: F811
    seed(mongo_uri, unique, [{"n": i, "at": datetime(2026, 11, 1 + i, tzinfo=UTC), "x": "y"} for i in range(5)])
    found = mongo.find(f"{mongo_uri}/{unique}", "things", sort=("n", -1), limit=2, projection={"n": 1, "at": 1})
    assert found.where == f"mongodb 127.0.0.1 {unique}.things"
    assert [d["n"] for d in found.documents] == [4, 3]
    assert "x" not in found.documents[0]
    assert found.documents[0]["at"] == datetime(2026, 11, 5, tzinfo=UTC)


def test_explicit_database_wins_over_the_uri(mongo_uri: str, unique: str) -> None:  # noqa: F811
    seed(mongo_uri, unique, [{"n": 1}])
    assert len(mongo.find(f"{mongo_uri}/other", "things", database=unique).documents) == 1


def test_a_uri_without_database_is_configuration(mongo_uri: str) -> None:  # noqa: F811
    with pytest.raises(ProbeError) as info:
        mongo.find(mongo_uri, "things")
    assert info.value.category is Category.CONFIG
    assert info.value.reason == "mongodb 127.0.0.1: the URI names no database"


def test_bad_connection_settings_are_configuration_and_not_quoted() -> None:
    with pytest.raises(ProbeError) as info:
        mongo.find("mongodb://app:Very-Secret@Pw-3@127.0.0.1:1/db", "things")
    assert info.value.category is Category.CONFIG
    assert info.value.reason == "mongodb 127.0.0.1: bad connection settings (InvalidURI)"
    assert "Very-Secret" not in str(info.value)


def test_refused_port_ends_within_the_timeout() -> None:
    uri = f"mongodb://app:Very-Secret-Pw-4@127.0.0.1:{free_port()}/ops"
    started = time.monotonic()
    with pytest.raises(ProbeError) as info:
        mongo.find(uri, "things", timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert info.value.category is Category.INFRASTRUCTURE
    assert info.value.reason == "mongodb 127.0.0.1 ops.things: ServerSelectionTimeoutError"
    assert "Very-Secret" not in str(info.value)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers (a hung or SIGSTOPped database)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()
    listener.settimeout(0.1)

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


def test_a_server_that_never_answers_ends_within_the_timeout(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(ProbeError) as info:
        mongo.find(f"mongodb://127.0.0.1:{silent_server}/ops", "things", timeout_s=0.5)
    assert time.monotonic() - started < 2
    assert info.value.category is Category.INFRASTRUCTURE
