"""OX-style errors: a code like "LGI-0006", a message, an HTTP status. The API returns
them in OX's JSON shape; the admin commands print them as OX's CLTs do."""

from __future__ import annotations

import uuid


class OXException(Exception):
    def __init__(self, code: str, message: str, status: int = 200, category: str = "ERROR"):
        super().__init__(f"{message} ({code})")
        self.code = code
        self.message = message
        self.status = status  # OX answers most API errors with 200 and an error body
        self.category = category

    def to_json(self) -> dict[str, object]:
        return {
            "error": self.message,
            "error_params": [],
            "categories": self.category,
            "category": {"USER_INPUT": 1, "PERMISSION_DENIED": 3, "SERVICE_DOWN": 7}.get(
                self.category, 8
            ),
            "code": self.code,
            "error_id": uuid.uuid4().hex[:16],
        }


def db_down(where: str, why: object) -> OXException:
    return OXException(
        "DBP-0001", f"Cannot get connection to database {where}: {why}", 503, "SERVICE_DOWN"
    )


def pool_exhausted(pool: str, max_active: int) -> OXException:
    """All maxActive connections are out and none came back within maxWait: OX reports
    this too as it cannot get a connection (the same DBP code)."""
    return db_down(pool, f"pool exhausted, all {max_active} connections (maxActive) in use")
