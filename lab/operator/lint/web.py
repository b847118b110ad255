"""Lint rules for the web front end (Apache): balancer routes, stickiness, the SOAP
lockdown, balancer-manager, HTTPS, the guide's ProxyPass paths, member hosts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit

from lab.operator import parsers
from lab.operator.lint.engine import (
    ERROR,
    GROUPWARE_ROUTES,
    PROVISIONING_PATH,
    WARNING,
    Finding,
    LintContext,
    register,
)
from lab.operator.project import OperatorFile
from lab.roles.web.front_end import PROXIED_PATHS


def _apache(context: LintContext) -> list[tuple[OperatorFile, parsers.Directive]]:
    return [(f, d) for f in context.files("web") for d in parsers.apache_directives(f.text)]


def balancer_routes(context: LintContext) -> Iterator[Finding]:
    for f, d in _apache(context):
        if d.name != "balancermember":
            continue
        routes = [a.split("=", 1)[1] for a in d.args if a.lower().startswith("route=")]
        if not routes or routes[0] not in GROUPWARE_ROUTES:
            yield Finding(
                "AP001",
                ERROR,
                f.path,
                d.line,
                f"BalancerMember {d.args[0] if d.args else ''} has "
                + (f"route={routes[0]}" if routes else "no route"),
                "the guide: --jkroute must equal the route of the web server's "
                "BalancerMember, or sticky sessions never find their node",
                f"use the nodes' routes ({', '.join(GROUPWARE_ROUTES)})",
            )


register(
    "AP001", "BalancerMember routes that do not match the groupware nodes' jkroute", balancer_routes
)


def sticky(context: LintContext) -> Iterator[Finding]:
    members = [(f, d) for f, d in _apache(context) if d.name == "balancermember"]
    if not members:
        return
    sticky_args = [
        a
        for _, d in _apache(context)
        if d.name in ("proxyset", "proxypass")
        for a in d.args
        if a.lower().startswith("stickysession=")
    ]
    if not any(a.split("=", 1)[1].split("|")[0] == "JSESSIONID" for a in sticky_args):
        f, d = members[0]
        yield Finding(
            "AP002",
            ERROR,
            f.path,
            d.line,
            "the balancer has no stickysession=JSESSIONID",
            "the guide: OX's session lives on one node; without stickiness every request "
            "may land on the other node and the session is lost",
            "add `ProxySet stickysession=JSESSIONID` in <Proxy balancer://...>",
        )


register("AP002", "stickysession missing or not on JSESSIONID", sticky)


def _denies(d: parsers.Directive) -> bool:
    args = " ".join(d.args).lower()
    return (d.name == "require" and ("all denied" in args or args.startswith(("ip", "host")))) or (
        d.name == "deny" and "all" in args
    )


def soap_lockdown(context: LintContext) -> Iterator[Finding]:
    directives = _apache(context)
    if not any(d.name == "proxypass" for _, d in directives):
        return
    locked = any(
        _denies(d) and any(PROVISIONING_PATH.split("/")[2] in b.lower() for b in d.blocks)
        for _, d in directives
    )
    if not locked:
        f, d = next((f, d) for f, d in directives if d.name == "proxypass")
        yield Finding(
            "AP003",
            ERROR,
            f.path,
            d.line,
            f"{PROVISIONING_PATH} (OX's SOAP provisioning API) is proxied to everyone",
            "the guide restricts it: anyone who reaches it can create contexts and users",
            f"add <LocationMatch> for {PROVISIONING_PATH} with `Require ip` of your admins",
        )


register("AP003", "the SOAP provisioning path not denied", soap_lockdown)


def balancer_manager(context: LintContext) -> Iterator[Finding]:
    directives = _apache(context)
    for f, d in directives:
        if d.name == "sethandler" and d.args and d.args[0].lower() == "balancer-manager":
            own = [o for g, o in directives if g is f]  # the block is in this file
            opener = parsers.enclosing(own, d)
            siblings = parsers.inside(own, opener) if opener else own
            restricted = any(_denies(o) and o.blocks == d.blocks for o in siblings)
            if not restricted:
                yield Finding(
                    "AP004",
                    ERROR,
                    f.path,
                    d.line,
                    "balancer-manager has no Require ip/host restriction",
                    "anyone who reaches it can disable members or change routes "
                    "(mod_proxy_balancer's documentation)",
                    "add `Require ip` with your admin network in the same <Location>",
                )


register("AP004", "balancer-manager reachable from everywhere", balancer_manager)


def https_redirect(context: LintContext) -> Iterator[Finding]:
    """Every port-80 virtual host of every web file: Apache serves a <VirtualHost *:80>
    wherever it is written (the site file, proxy_ajp.conf or another include)."""
    for f in context.files("web"):
        directives = parsers.apache_directives(f.text)
        for d in directives:
            if d.name == "virtualhost" and any(a.endswith(":80") for a in d.args):
                if not any(
                    o.name in ("redirect", "redirectmatch", "rewriterule")
                    and "https" in " ".join(o.args)
                    for o in parsers.inside(directives, d)
                ):
                    yield Finding(
                        "AP005",
                        WARNING,
                        f.path,
                        d.line,
                        "the port 80 virtual host does not redirect to HTTPS",
                        "OX sends passwords and session cookies; over plain HTTP they can be "
                        "read on the way",
                        "add `Redirect permanent / https://your.host/`",
                    )


register("AP005", "plain HTTP not redirected to HTTPS", https_redirect)


def proxy_mappings(directives: Sequence[parsers.Directive]) -> list[tuple[str, str]]:
    """(path, target) of every ProxyPass in the order Apache checks them: `ProxyPass /path
    target` or a ProxyPass inside `<Location /path>` (directive and block names in any
    case; paths as written, since URLs are case-sensitive; a trailing slash dropped). A
    target `!` is mod_proxy's exclusion: that path is not proxied."""
    mappings = []
    for d in directives:
        if d.name != "proxypass" or not d.args:
            continue
        if d.args[0].startswith("/"):
            mappings.append((d.args[0].rstrip("/") or "/", d.args[1] if len(d.args) > 1 else ""))
        for block in d.blocks:
            words = block.strip("<>").split()
            if len(words) > 1 and words[0].lower() == "location":
                mappings.append((words[1].strip("\"'").rstrip("/") or "/", d.args[0]))
    return mappings


def proxies(mappings: Sequence[tuple[str, str]], path: str) -> bool:
    """Whether a request for `path` is proxied: mod_proxy takes the first ProxyPass whose
    path is a prefix of the URL ("the first rule that matches wins", mod_proxy's
    documentation); `/` covers every path, `/ajax` covers `/ajax/...` but not `/ajaxx`."""
    for prefix, target in mappings:
        if prefix == "/" or path == prefix or path.startswith(prefix + "/"):
            return target not in ("!", "")
    return False


def guide_paths(context: LintContext) -> Iterator[Finding]:
    directives = _apache(context)
    members = [(f, d) for f, d in directives if d.name == "balancermember"]
    if not members:
        return
    mappings = proxy_mappings([d for _, d in directives])
    passes = [(f, d) for f, d in directives if d.name == "proxypass"]
    f, d = (passes or members)[-1]  # where the missing one would go
    for path in PROXIED_PATHS:
        if not proxies(mappings, path):
            yield Finding(
                "AP006",
                ERROR,
                f.path,
                d.line,
                f"{path} is not proxied to the balancer",
                "the guide proxies " + ", ".join(PROXIED_PATHS) + " to the groupware nodes; "
                f"without {path} the part of OX behind it answers 404 from Apache",
                f"add <Location {path}> ProxyPass balancer://oxcluster{path} </Location>",
            )


register("AP006", "one of the guide's ProxyPass paths not proxied", guide_paths)


def balancer_hosts(context: LintContext) -> Iterator[Finding]:
    hosts = context.hosts()
    for f, d in _apache(context):
        if d.name != "balancermember" or not d.args:
            continue
        host = urlsplit(d.args[0]).hostname or ""  # in lower case
        if host and host not in hosts:
            yield Finding(
                "AP007",
                ERROR,
                f.path,
                d.line,
                f"BalancerMember {d.args[0]} is on {host}, not a lab node",
                "the lab runs your proxy_ajp.conf as written; a member it cannot resolve to "
                "a groupware node is never reached, so `lab up` refuses the file",
                "name it in oxlab.toml's [hosts] (your name = oxgw01 or oxgw02)",
            )


register(
    "AP007",
    "a BalancerMember on a host the lab cannot map to a node",
    balancer_hosts,
    blocks_up=True,
)
