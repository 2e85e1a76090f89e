"""The API dialects the sandbox backend can serve (``WIMMELGATE_SANDBOX_DIALECT``).

Each dialect is a route table plus the mapping of its requests and answers onto the one
`Service`: ``wimmelwelt`` (the default API) and ``parse`` (modelled on Parse Server).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_wimmelgate.sandbox.service.backend_settings import DIALECTS

if TYPE_CHECKING:
    from pytest_wimmelgate.sandbox.service.api import Dialect
    from pytest_wimmelgate.sandbox.service.service import Service

__all__ = ["DIALECTS", "make_dialect"]


def make_dialect(name: str, service: Service) -> Dialect:
    """The dialect called ``name`` over ``service``; a ValueError for an unknown name."""
    if name == "wimmelwelt":
        from pytest_wimmelgate.sandbox.service.dialects.wimmelwelt import WimmelweltDialect

        return WimmelweltDialect(service)
    if name == "parse":
        from pytest_wimmelgate.sandbox.service.dialects.parse import ParseDialect

        return ParseDialect(service)
    raise ValueError(f"unknown API dialect {name!r} (known: {', '.join(DIALECTS)})")
