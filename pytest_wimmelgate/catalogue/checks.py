"""The check catalogue: every runbook line as a check id, its gates and runbook section."""

from __future__ import annotations

from dataclasses import dataclass

RUNBOOK_URL = "docs/runbook.md"


@dataclass(frozen=True)
class Gate:
    """A gate marker: a named selection of checks with a verdict of its own."""

    name: str
    description: str
    sections: tuple[str, ...]


@dataclass(frozen=True)
class Check:
    """One catalogue row: a runbook requirement that suites implement."""

    id: str
    gates: tuple[str, ...]
    title: str
    sections: tuple[str, ...]
    area: str
    destructive: bool = False
    #: environment-file sections the check reads; a run resolves only these.
    uses: tuple[str, ...] = ()


GATES: tuple[Gate, ...] = (
    Gate("preflight", "Preflight T-24h: version, changelog, migrations, templates", ("2.1",)),
    Gate("env_check", "Env vars and secrets of the target environment", ("6",)),
    Gate("staging_gate", "Staging gate T-12h: health, smoke, observability", ("2.2",)),
    Gate("golive", "Go-live decision T-1h: on-call, backups, approvals", ("2.3", "5")),
    Gate("change_window", "Release calendar and change freeze (Europe/Berlin)", ("5",)),
    Gate("prod_smoke", "Production smoke on green: health, auth, messaging, upload", ("2.4", "6")),
    Gate("post_deploy", "Post-deploy verification: SLOs, dashboards, saved searches", ("4",)),
    Gate("rollback_trigger", "Rollback triggers: red means roll back", ("3",)),
    Gate("rollback_validation", "Rollback validated: N-1 serving, migrations down", ("3",)),
    Gate("alerting", "Minimal alert rule set and routing per environment", ("7",)),
    Gate("drill", "Emergency drills: backups, restore, failover, storage", ("8",)),
)

_B = ("backend",)
_SMOKE = ("backend", "smoke_account")
_M = ("metrics", "backend", "smoke_account")  # without Prometheus, metric checks sample the backend as the smoke account

CHECKS: tuple[Check, ...] = (
    Check("PF-1", ("preflight",), "artifact version and commit are known and recorded", ("2.1",), "release"),
    Check("PF-2", ("preflight",), "changelog has an entry for the version", ("2.1",), "release", uses=("changelog",)),
    Check(
        "PF-3",
        ("preflight", "rollback_validation"),
        "every migration has a down migration; backup plan referenced",
        ("2.1",),
        "migrations",
        uses=("migrations",),
    ),
    Check(
        "PF-4",
        ("preflight", "drill"),
        "Statuspage incident templates exist",
        ("2.1", "8"),
        "communication",
        uses=("statuspage",),
    ),
    Check(
        "EV-1",
        ("env_check", "preflight"),
        "mandatory variables set and non-empty",
        ("6",),
        "configuration",
        uses=("variables",),
    ),
    Check(
        "EV-2", ("env_check",), "variable value rules of the environment", ("6",), "configuration", uses=("variables",)
    ),
    Check(
        "EV-3",
        ("env_check",),
        "MONGODB_URI parses and names the environment's database",
        ("6",),
        "configuration",
        uses=("variables",),
    ),
    Check(
        "EV-4",
        ("env_check",),
        "no cross-environment contamination (by fingerprint)",
        ("6",),
        "configuration",
        uses=("variables",),
    ),
    Check(
        "EV-5",
        ("env_check",),
        "LOG_ENDPOINT and OTEL endpoint valid, OTEL token present",
        ("6",),
        "configuration",
        uses=("variables",),
    ),
    Check(
        "EV-6",
        ("env_check",),
        "AUTH_SECRET strong enough, not a placeholder",
        ("6",),
        "configuration",
        uses=("variables",),
    ),
    Check(
        "SG-1",
        ("staging_gate", "prod_smoke"),
        "/health 200 with the expected version and commit",
        ("2.2",),
        "health",
        uses=_B,
    ),
    Check("SG-2", ("staging_gate", "prod_smoke"), "/readiness 200", ("2.2",), "health", uses=_B),
    Check(
        "SG-3",
        ("staging_gate",),
        "database blocked -> /readiness 503; unblocked -> 200 within a bound",
        ("2.2",),
        "health",
        destructive=True,
        uses=("backend", "faults"),
    ),
    Check(
        "SG-4",
        ("staging_gate", "prod_smoke"),
        "auth: login, wrong password 401, no token 401, rate limit 429",
        ("2.2", "6"),
        "auth",
        uses=_SMOKE,
    ),
    Check(
        "SG-5",
        ("staging_gate", "prod_smoke"),
        "messaging: send, read back, delete",
        ("2.2", "6"),
        "messaging",
        uses=_SMOKE,
    ),
    Check(
        "SG-6",
        ("staging_gate", "prod_smoke"),
        "upload: upload, download identical bytes, delete",
        ("2.2", "6"),
        "upload",
        uses=_SMOKE,
    ),
    Check("SG-7", ("staging_gate",), "push: test push accepted and delivered", ("2.2", "4"), "push", uses=_SMOKE),
    Check(
        "SG-8",
        ("staging_gate",),
        "logs flow into backend-<env>-*; this run's marker line found",
        ("2.2",),
        "observability",
        uses=("backend", "logs"),
    ),
    Check(
        "SG-9",
        ("staging_gate",),
        "OTLP export active with the environment's token",
        ("2.2",),
        "observability",
        uses=("otlp",),
    ),
    Check(
        "SG-10",
        ("staging_gate", "post_deploy"),
        "Grafana dashboards load",
        ("2.2", "4"),
        "observability",
        uses=("grafana",),
    ),
    Check("GL-1", ("golive",), "on-call active now (PagerDuty)", ("2.3",), "operations", uses=("pagerduty",)),
    Check("GL-2", ("golive",), "newest backup younger than 24 h", ("2.3",), "backup", uses=("backups",)),
    Check(
        "GL-3",
        ("golive", "rollback_validation"),
        "last restore test younger than 30 days",
        ("2.3", "5"),
        "backup",
        uses=("backups",),
    ),
    Check("GL-4", ("golive", "prod_smoke"), "no active P1/P2 alert", ("2.4", "5"), "alerting", uses=("alertmanager",)),
    Check(
        "GL-5",
        ("golive",),
        "staging gate GO for the same version and commit",
        ("5",),
        "release",
        uses=("staging_evidence",),
    ),
    Check("GL-6", ("golive",), "go/no-go approvals: Product Owner and Release Captain", ("2.3",), "release"),
    Check(
        "CW-1",
        ("change_window",),
        "inside a release window or override by Product Owner + On-Call",
        ("5",),
        "calendar",
        uses=("calendar",),
    ),
    Check(
        "CW-2",
        ("change_window",),
        "outside the change freeze or incident approval",
        ("5",),
        "calendar",
        uses=("calendar",),
    ),
    Check(
        "PS-1",
        ("prod_smoke",),
        "Release annotation posted for version and commit",
        ("6",),
        "observability",
        uses=("grafana",),
    ),
    Check("PD-1", ("post_deploy",), "p95 latency below the environment's limit", ("4",), "slo", uses=_M),
    Check("PD-2", ("post_deploy",), "5xx rate below the environment's limit", ("4",), "slo", uses=_M),
    Check("PD-3", ("post_deploy",), "readiness failures below the environment's limit", ("4",), "slo", uses=_M),
    Check(
        "PD-4",
        ("post_deploy",),
        "push delivery success above the environment's limit",
        ("4",),
        "slo",
        uses=_M,
    ),
    Check("PD-5", ("post_deploy",), "saved searches exist", ("4",), "observability", uses=("logs",)),
    Check("RT-1", ("rollback_trigger",), "5xx > 2% over 5 min", ("3",), "slo", uses=_M),
    Check("RT-2", ("rollback_trigger",), "p95 > 500 ms over 5 min", ("3",), "slo", uses=_M),
    Check("RT-3", ("rollback_trigger",), "readiness fluctuates > 0.5%", ("3",), "slo", uses=_M),
    Check("RT-4", ("rollback_trigger",), "push failures > 5% over 10 min", ("3",), "slo", uses=_M),
    Check("RV-1", ("rollback_validation",), "serving version is N-1 and ready", ("3",), "release", uses=_B),
    Check(
        "RV-2", ("rollback_validation",), "artifact N-1 available for redeploy", ("3",), "release", uses=("artifacts",)
    ),
    Check("RV-3", ("rollback_validation",), "applied migrations match N-1", ("3",), "migrations", uses=("migrations",)),
    Check("RV-4", ("rollback_validation",), "metrics stable after rollback", ("3",), "slo", uses=_M),
    Check(
        "AL-1",
        ("alerting",),
        "minimal alert rule set present with per-environment thresholds",
        ("7",),
        "alerting",
        uses=("alerting",),
    ),
    Check("AL-2", ("alerting",), "routing per environment", ("7",), "alerting", uses=("alerting",)),
    Check("DR-1", ("drill",), "a backup for each of the last 7 days", ("8",), "backup", uses=("backups",)),
    Check("DR-2", ("drill",), "weekly restore test documented", ("8",), "backup", uses=("backups",)),
    Check(
        "DR-3",
        ("drill",),
        "DB failover: primary failure simulated, recovery time measured",
        ("8",),
        "drill",
        destructive=True,
        uses=("backend", "faults"),
    ),
    Check(
        "DR-4",
        ("drill",),
        "S3 blocked -> uploads served by the local fallback",
        ("8",),
        "drill",
        destructive=True,
        uses=("backend", "faults", "smoke_account"),
    ),
)

RUNBOOK_HEADINGS: dict[str, str] = {
    "1": "1. Rollen & RACI",
    "2": "2. Release- & Go-Live-Playbook",
    "2.1": "2.1 Preflight (T-24h)",
    "2.2": "2.2 Staging-Gate (T-12h)",
    "2.3": "2.3 Go-Live-Entscheid (T-1h)",
    "2.4": "2.4 Production-Deployment (Blue/Green, fallback Canary)",
    "3": "3. Rollback-Playbook",
    "4": "4. Post-Deployment-Verifikation",
    "5": "5. Change- & Freigabeprozess",
    "6": "6. Environment-Vars, Secrets & CI/CD-Gates",
    "7": "7. Observability & Alerting (Routing)",
    "8": "8. Notfall- & Wiederanlauf-Szenarien",
    "9": "9. Artefakte & Dokumentation",
}

DESTRUCTIVE_MARKER = "destructive"
CHECK_MARKER = "check"


def gate_names() -> tuple[str, ...]:
    return tuple(g.name for g in GATES)


def check_by_id(check_id: str) -> Check | None:
    return next((c for c in CHECKS if c.id == check_id), None)


def heading_anchor(heading: str) -> str:
    """GitHub/GitLab-style anchor of a Markdown heading."""
    import re

    text = re.sub(r"[^\w\- ]", "", heading.lower(), flags=re.UNICODE)
    return text.replace(" ", "-")


def runbook_link(base_url: str, section: str) -> str:
    """Link to a runbook section, e.g. ``docs/runbook.md#22-staging-gate-t-12h``."""
    heading = RUNBOOK_HEADINGS.get(section, section)
    return f"{base_url}#{heading_anchor(heading)}"
