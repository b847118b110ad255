"""How a servlet container maps a request URI to a servlet, as OX's HTTP service
(Grizzly, like Tomcat) does before dispatching: path parameters (";jsessionid=...",
";x") are removed from every segment, %-escapes are decoded, empty segments ("//")
collapse and dot segments ("." and "..") are resolved. Mapping itself stays
case-sensitive, as the servlet specification says.

Why it matters: Apache's <Location /servlet/axis2/services> compares the path *with* its
path parameters, so "/servlet/axis2/services;x" escapes the guide's lock-down of the
SOAP provisioning API, and the servlet container maps it to the very same servlet.
"""

from __future__ import annotations

from urllib.parse import unquote

PROVISIONING = "/servlet/axis2/services"  # OX's SOAP provisioning API (axis2)


class BadPath(ValueError):
    """A path a servlet container refuses (dot segments above the root, encoded '/')."""


def servlet_path(raw: str) -> str:
    segments: list[str] = []
    for part in raw.split("/"):
        segment = unquote(part.split(";", 1)[0])
        if "/" in segment:
            raise BadPath(f"encoded slash in {raw!r}")  # Tomcat's default: 400
        if segment in ("", "."):
            continue
        if segment == "..":
            if not segments:
                raise BadPath(f"{raw!r} climbs above the root")
            segments.pop()
            continue
        segments.append(segment)
    return "/" + "/".join(segments)


def is_provisioning(path: str) -> bool:
    """The mapped path reaches the provisioning servlet (it and everything below it)."""
    return path == PROVISIONING or path.startswith(PROVISIONING + "/")
