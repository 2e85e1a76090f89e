"""Sections of the release's own records: changelog (PF-2), artifacts (RV-2), staging evidence (GL-5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_wimmelgate.config.sections.reader import Node


@dataclass(frozen=True)
class ChangelogSettings:
    path: str


def parse_changelog(tree: Any, source: str) -> ChangelogSettings:
    node = Node(tree, source, "changelog")
    node.only(("path",))
    return ChangelogSettings(node.text("path", "CHANGELOG.md"))


@dataclass(frozen=True)
class ArtifactStore:
    """Release artifacts in S3: bucket, key template (``{version}``), and where the credentials are."""

    bucket: str
    key_template: str
    endpoint_url: str | None = None
    region: str = "eu-central-1"
    access_key_variable: str = "AWS_ACCESS_KEY_ID"
    secret_key_variable: str = "AWS_SECRET_ACCESS_KEY"


@dataclass(frozen=True)
class ArtifactSettings:
    """Where release artifacts live: an HTTP URL template or an S3 store (RV-2)."""

    url_template: str | None = None
    s3: ArtifactStore | None = None
    timeout_s: float = 10.0

    def url_for(self, version: str) -> str | None:
        return self.url_template.replace("{version}", version) if self.url_template else None


def parse_artifacts(tree: Any, source: str) -> ArtifactSettings:
    node = Node(tree, source, "artifacts")
    node.only(("url_template", "s3", "timeout_s"))
    store = None
    if "s3" in node:
        part = node.child("s3")
        part.only(("bucket", "key_template", "endpoint_url", "region", "access_key_variable", "secret_key_variable"))
        store = ArtifactStore(
            bucket=part.text("bucket"),
            key_template=part.text("key_template"),
            endpoint_url=part.optional_url("endpoint_url"),
            region=part.text("region", "eu-central-1"),
            access_key_variable=part.text("access_key_variable", "AWS_ACCESS_KEY_ID"),
            secret_key_variable=part.text("secret_key_variable", "AWS_SECRET_ACCESS_KEY"),
        )
    template = node.text("url_template") if "url_template" in node else None
    if template is None and store is None:
        raise node.error("url_template", "expected url_template or s3 (where the release artifacts live)")
    return ArtifactSettings(url_template=template, s3=store, timeout_s=node.seconds("timeout_s", 10))


@dataclass(frozen=True)
class StagingEvidenceSettings:
    """Where GL-5 looks for the staging gate's run folders."""

    release_dir: str | None = None
    environment: str = "staging"


def parse_staging_evidence(tree: Any, source: str) -> StagingEvidenceSettings:
    node = Node(tree, source, "staging_evidence")
    node.only(("release_dir", "environment"))
    return StagingEvidenceSettings(node.optional_text("release_dir"), node.text("environment", "staging"))
