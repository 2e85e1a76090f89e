"""EV-1..EV-6: the target environment's variables and secrets (runbook section 6).

The package, one idea per module:

- `model` — the parsed section (`VariableRules` and its parts) and `EnvResult`;
- `parse` — the ``variables`` section → `VariableRules` (`parse_rules`);
- `values` — value heuristics: placeholders, character classes, URLs, the OTLP token;
- `contamination` — EV-4, the other environment's values and markers;
- `checks` — EV-1, EV-2, EV-3, EV-5, EV-6 and `run_all`.

No reason, evidence or exception text ever holds a variable's value: only variable names,
rule names, the configured (expected) constants, lengths, counts and fingerprints. The one
exception is EV-3's database name, which is not a secret (credentials inside the URI are).

Section ``variables`` of an environment file (all keys but ``required`` optional)::

    variables:
      required: [MONGODB_URI, AUTH_SECRET, ...]      # EV-1: set and non-empty
      rules:                                          # EV-2: per variable, see RULES
        FILE_STORAGE_MODE: {one_of: [s3, local]}
        LOG_LEVEL: {equals: debug}
      conditional:                                    # EV-2: requirements under a condition
        - {when: {FILE_STORAGE_MODE: s3}, require: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY]}
      database: wimmelwelt_staging                    # EV-3 (mongodb_variable: MONGODB_URI)
      foreign:                                        # EV-4, EV-6: the other environment
        environment: production                       # a label used in reasons
        fingerprints: {AUTH_SECRET: [1a2b3c4d5e6f]}   # python -m pytest_wimmelgate.config.fingerprint
        from_env: {AUTH_SECRET: PROD_AUTH_SECRET}     # or: read its values from the process
        markers: [prod, wimmelwelt_prod]              # must not occur in hosts/db/bucket names
      endpoints: [LOG_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT]   # EV-5 (this is the default)
      otel_token_variable: OTEL_EXPORTER_OTLP_HEADERS          # EV-5 (default)
      otel_token_header: Authorization                         # EV-5 (default)
      otel_token_scheme: Bearer                                # EV-5 (default; "" = none)
      auth_secret: {variable: AUTH_SECRET, min_length: 32, min_classes: 3, placeholders: []}
      secrets: [SMOKE_USER]                           # extra names whose values are secret

Rule vocabulary (``RULES``): ``equals: TEXT``, ``one_of: [TEXT, ...]``, ``url: true`` or
``url: [https]`` (allowed schemes; ``true`` means http and https), ``min_length: N``,
``max_length: N``, ``pattern: REGEX`` (full match), ``min_classes: N`` (of lower, upper,
digit, other), ``not_placeholder: true``. A value is compared as text; quote YAML scalars.
Whole numbers may be written as texts (``min_length: "32"``).
"""

from __future__ import annotations

from pytest_wimmelgate.domain.envcheck.checks import (
    check_auth_secret,
    check_database,
    check_endpoints,
    check_required,
    check_values,
    run_all,
)
from pytest_wimmelgate.domain.envcheck.contamination import check_contamination
from pytest_wimmelgate.domain.envcheck.model import (
    RULES,
    SECTION,
    SECTION_KEYS,
    AuthSecretPolicy,
    Conditional,
    EnvResult,
    Foreign,
    Rule,
    VariableRules,
)
from pytest_wimmelgate.domain.envcheck.parse import parse_rules
from pytest_wimmelgate.domain.envcheck.values import (
    PLACEHOLDERS,
    char_classes,
    is_placeholder,
    is_url,
    otel_token_problem,
)

__all__ = [
    "PLACEHOLDERS",
    "RULES",
    "SECTION",
    "SECTION_KEYS",
    "AuthSecretPolicy",
    "Conditional",
    "EnvResult",
    "Foreign",
    "Rule",
    "VariableRules",
    "char_classes",
    "check_auth_secret",
    "check_contamination",
    "check_database",
    "check_endpoints",
    "check_required",
    "check_values",
    "is_placeholder",
    "is_url",
    "otel_token_problem",
    "parse_rules",
    "run_all",
]
