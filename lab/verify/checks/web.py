"""The guide's front end as a browser meets it: plain HTTP redirected to HTTPS, HTTPS
answering, the SOAP provisioning API locked (every way a servlet container would map a
path to it), and sessions through the balancer: new logins split about 50:50 by
loadfactor, every later request of a session on the node its JSESSIONID route names."""

from __future__ import annotations

import collections
import http.client
import ssl

import requests
import urllib3

from lab.infra.hosts.remote import HostError
from lab.roles.groupware.client import OxError, OxSession
from lab.roles.web.front_end import CASE_VARIANTS, PROVISIONING_VARIANTS
from lab.verify.checks.groupware import node_route
from lab.verify.result import Result, guarded, passed
from lab.verify.target import Target

urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)

LOGINS = 20
FOLLOW_UPS = 3
# binomial(20, 0.5) stays within 3..17 in 99.9 % of runs
SPLIT_BOUNDS = (3, 17)


def ca_of(target: Target) -> str | bool:
    """The CA file the inventory names for the front end's certificate (oxlab_ca_file),
    else no verification (the check then reports the certificate, not its trust)."""
    web = target.role("web")[0]
    return str(web.variables.get("oxlab_ca_file", "")) or False


def front_end(target: Target) -> list[Result]:
    web = target.role("web")[0]
    return [
        guarded("web", web.name, "HTTP → HTTPS", _redirect, target),
        guarded("web", web.name, "SOAP API locked", _soap, target),
        guarded("web", web.name, "sessions 50:50, sticky", _sessions, target),
    ]


def _redirect(target: Target) -> Result:
    web = target.role("web")[0]
    plain = requests.get(f"http://{web.address}/", allow_redirects=False, timeout=10)
    location = plain.headers.get("Location", "")
    secure = requests.get(f"https://{web.address}/", verify=ca_of(target), timeout=10)
    problems = []
    if plain.status_code not in (301, 302, 307, 308) or not location.startswith("https://"):
        problems.append(f"http:// answers {plain.status_code} {location or ''}".rstrip())
    if secure.status_code >= 500:
        problems.append(f"https:// answers {secure.status_code}")
    evidence = f"http:// {plain.status_code} → {location or '-'}; https:// {secure.status_code}"
    return passed("web", web.name, "HTTP → HTTPS", problems, evidence)


def raw_get(address: str, path: str) -> int:
    """GET with the path sent exactly as written (no client-side normalisation)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection(address, 443, context=context, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def denied(path: str, status: int) -> bool:
    """Apache denied the request: 403 from the lock-down, or 404 for an encoded slash,
    which Apache refuses itself before any <Location> (AllowEncodedSlashes Off)."""
    return status == 403 or (status == 404 and "%2F" in path.upper())


def _soap(target: Target) -> Result:
    web = target.role("web")[0]
    answers = {
        path: raw_get(web.address, path) for path in (*PROVISIONING_VARIANTS, *CASE_VARIANTS)
    }
    open_paths = [f"{p} ({code})" for p, code in answers.items() if not denied(p, code)]
    problems = [f"not denied from outside: {', '.join(open_paths)}"] if open_paths else []
    evidence = (
        f"{len(answers) - len(open_paths)} of {len(answers)} ways of writing the path denied "
        "from outside"
    )
    return passed("web", web.name, "SOAP API locked", problems, evidence)


def _sessions(target: Target) -> Result:
    web = target.role("web")[0]
    creds = target.credentials
    url = f"https://{web.address}"
    routes: collections.Counter[str] = collections.Counter()
    lost = []
    for _ in range(LOGINS):
        session = OxSession.login(url, creds.ox_login, creds.ox_password, verify=ca_of(target))
        routes[session.route] += 1
        try:
            for _ in range(FOLLOW_UPS):
                session.folders()
        except (OxError, requests.RequestException) as exc:
            lost.append(f"a session on {session.route}: {exc}")
        finally:
            _logout(session)
    expected = {str(r) for r in _routes(target)}
    low, high = SPLIT_BOUNDS
    problems = []
    if expected and set(routes) != expected:
        problems.append(f"routes {sorted(routes)} handed out, the nodes have {sorted(expected)}")
    if any(not low <= n <= high for n in routes.values()) or len(routes) < 2:
        problems.append(f"{LOGINS} logins split {dict(routes)}, not about 50:50")
    if lost:
        problems.append(f"{len(lost)} sessions lost on a later request ({lost[0]})")
    evidence = (
        f"{LOGINS} logins as {creds.ox_login}: "
        + ", ".join(f"{r} {n}" for r, n in sorted(routes.items()))
        + f"; {LOGINS * FOLLOW_UPS} later requests stayed in their sessions" * (not lost)
    )
    return passed("web", web.name, "sessions 50:50, sticky", problems, evidence)


def _routes(target: Target) -> list[str]:
    """The routes the groupware nodes say they have (where they can be read)."""
    found = []
    for node in target.role("groupware"):
        try:
            found.append(node_route(node)[0])
        except HostError:
            continue
    return found


def _logout(session: OxSession) -> None:
    try:
        session.logout()
    except (OxError, requests.RequestException):
        pass
