"""The backend's MongoDB access: short timeouts, every command timed into the metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo import MongoClient
    from pymongo.database import Database as MongoDatabase

    from pytest_wimmelgate.sandbox.service.instruments import Metrics

COLLECTIONS = ("users", "messages", "uploads", "push_deliveries")
OPERATION_TIMEOUT_S = 1.5
PING_TIMEOUT_S = 1.0


class Database:
    """Thin repository over the four collections; raises pymongo errors on failure."""

    def __init__(self, uri: str, metrics: Metrics) -> None:
        from pymongo import MongoClient

        self._metrics = metrics
        self._client: MongoClient[dict[str, Any]] = MongoClient(
            uri,
            serverSelectionTimeoutMS=800,
            connectTimeoutMS=500,
            socketTimeoutMS=1500,
            timeoutMS=int(OPERATION_TIMEOUT_S * 1000),
            appname="wimmelwelt-sandbox",
            journal=True,
        )
        self._db: MongoDatabase[dict[str, Any]] = self._client.get_default_database()

    def close(self) -> None:
        self._client.close()

    def ping(self, timeout_s: float = PING_TIMEOUT_S) -> None:
        """Run ``ping`` bounded by ``timeout_s`` in total (server selection included)."""
        import pymongo

        with self._metrics.mongo_command("ping"), pymongo.timeout(timeout_s):
            self._client.admin.command("ping")

    def insert(self, collection: str, document: dict[str, Any]) -> None:
        with self._metrics.mongo_command("insert"):
            self._db[collection].insert_one(document)

    def upsert(self, collection: str, key: str, fields: dict[str, Any]) -> None:
        with self._metrics.mongo_command("update"):
            self._db[collection].update_one({"_id": key}, {"$set": fields}, upsert=True)

    def update(self, collection: str, key: str, fields: dict[str, Any]) -> bool:
        with self._metrics.mongo_command("update"):
            result = self._db[collection].update_one({"_id": key}, {"$set": fields})
        return result.matched_count > 0

    def get(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._metrics.mongo_command("find"):
            return self._db[collection].find_one({"_id": key})

    def find(self, collection: str, query: dict[str, Any], limit: int = 200) -> list[dict[str, Any]]:
        with self._metrics.mongo_command("find"):
            return list(self._db[collection].find(query).sort("created_at", 1).limit(limit))

    def tag_counts(self, collection: str) -> tuple[int, dict[str, int]]:
        """All documents, and how many carry each run tag (``tag``, else ``run_id``)."""
        with self._metrics.mongo_command("find"):
            documents = list(self._db[collection].find({}, {"tag": 1, "run_id": 1}))
        counts: dict[str, int] = {}
        for doc in documents:
            tag = doc.get("tag") or doc.get("run_id")
            if isinstance(tag, str) and tag:
                counts[tag] = counts.get(tag, 0) + 1
        return len(documents), counts

    def delete(self, collection: str, query: dict[str, Any]) -> bool:
        with self._metrics.mongo_command("delete"):
            return self._db[collection].delete_one(query).deleted_count > 0
