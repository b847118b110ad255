"""The Apache rules on small files: which paths a ProxyPass serves, which access rules
deny, where stickiness may be set, and what AP001 tells the operator. Each case is an
edge the mutation run found untested (tools/mutants.py survivors)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lab.operator.lint import ERROR, Finding
from lab.operator.lint.web import _denies, proxies, proxy_mappings
from lab.operator.parsers import apache_directives, enclosing, inside
from tests.unit.test_operator_lint import findings, starter


def _one(line: str) -> bool:
    [directive] = apache_directives(line)
    return _denies(directive)


@pytest.mark.parametrize(
    ("line", "denies"),
    [
        ("Require all denied", True),
        ("Require ALL Denied", True),  # arguments in any case
        ("Require ip 10.0.0.0/8", True),  # only the admins' network
        ("Require host admin.example.net", True),
        ("Require all granted", False),
        ("Require valid-user", False),
        ("Require not ip 192.0.2.1", False),  # everyone else still gets in
        ("Deny from all", True),
        ("deny from ALL", True),
        ("Deny from 192.0.2.1", False),  # one address out, everyone else in
        ("Allow from all", False),
        ("Allow from 127.0.0.1", False),
    ],
)
def test_which_access_rules_deny(line: str, denies: bool) -> None:
    """AP003/AP004 accept a path as locked down when a Require (2.4) or Deny (2.2)
    inside its block keeps the public out."""
    assert _one(line) is denies, line


PATHS_CONF = """\
<IfModule mod_proxy_ajp.c>
  ProxyPass /ajax/ balancer://oxcluster/ajax
  ProxyPass / balancer://oxcluster/
  ProxyPass
  Alias /static /var/www/static
  ProxyPassReverse /usm-json balancer://oxcluster/usm-json
  <Location "/servlet/">
    ProxyPass balancer://oxcluster/servlet
  </Location>
  <Location '/infostore'>
    ProxyPass balancer://oxcluster/infostore
  </Location>
  ProxyPass /BOX/ balancer://oxcluster/BOX
  <Location /inboX>
    ProxyPass balancer://oxcluster/inboX
  </Location>
  <LocationMatch "^/publications">
    ProxyPass balancer://oxcluster/publications
  </LocationMatch>
  <Location>
    ProxyPass balancer://oxcluster/broken
  </Location>
</IfModule>
"""


def test_proxy_mappings_are_read_as_apache_maps_them() -> None:
    """A trailing slash and quotes do not make another path; `/` stays `/`; only
    ProxyPass serves a path (not Alias or ProxyPassReverse); a <LocationMatch> regex and
    a <Location> without a path name none; enclosing blocks are not paths; file order."""
    assert proxy_mappings(apache_directives(PATHS_CONF)) == [
        ("/ajax", "balancer://oxcluster/ajax"),
        ("/", "balancer://oxcluster/"),
        ("/servlet", "balancer://oxcluster/servlet"),
        ("/infostore", "balancer://oxcluster/infostore"),
        ("/BOX", "balancer://oxcluster/BOX"),  # only slashes come off the end
        ("/inboX", "balancer://oxcluster/inboX"),
    ]


@pytest.mark.parametrize(
    ("mappings", "path", "proxied"),
    [
        ([("/ajax", "b://x/ajax")], "/ajax", True),  # equal
        ([("/ajax", "b://x/ajax")], "/ajax/login", True),  # below it
        ([("/ajax", "b://x/ajax")], "/ajaxx", False),  # a prefix, but not at a slash
        ([("/ajax", "b://x/ajax")], "/servlet", False),
        ([("/Ajax", "b://x/ajax")], "/ajax", False),  # URLs are case-sensitive
        ([("/", "b://x/")], "/servlet", True),  # the root covers every path
        ([("/servlet", "!"), ("/", "b://x/")], "/servlet", False),  # excluded first
        ([("/", "b://x/"), ("/servlet", "!")], "/servlet", True),  # first match wins
        ([("/servlet", "")], "/servlet", False),  # no target: proxies nothing
        ([], "/ajax", False),
    ],
)
def test_a_path_is_proxied_by_the_first_proxypass_that_matches(
    mappings: list[tuple[str, str]], path: str, proxied: bool
) -> None:
    """mod_proxy: the first ProxyPass whose path prefixes the URL decides; `!` excludes."""
    assert proxies(mappings, path) is proxied, (mappings, path)


def test_ap006_takes_a_root_proxypass_as_proxying_every_path(tmp_path: Path) -> None:
    """`ProxyPass / balancer://oxcluster/` sends every guide path to the nodes (no 404
    from Apache), unless an earlier `ProxyPass /path !` keeps one back."""
    members = _reference(tmp_path).split("  <Location /ajax>")[0]  # the balancer only
    root = members + "  ProxyPass / balancer://oxcluster/\n</IfModule>\n"
    assert not _web_findings(tmp_path / "root", root, "AP006")
    excluded = root.replace("  ProxyPass /", "  ProxyPass /servlet !\n  ProxyPass /")
    [hit] = _web_findings(tmp_path / "excluded", excluded, "AP006")
    assert hit.what == "/servlet is not proxied to the balancer", hit.render()


def _web_findings(tmp_path: Path, conf: str, rule: str) -> list[Finding]:
    toml = starter(tmp_path)
    (tmp_path / "web/proxy_ajp.conf").write_text(conf)
    return [f for f in findings(toml) if f.rule == rule]


def _reference(tmp_path: Path) -> str:
    starter(tmp_path / "ref")
    return (tmp_path / "ref/web/proxy_ajp.conf").read_text()


def test_ap001_names_the_member_and_the_route_it_has(tmp_path: Path) -> None:
    conf = (
        _reference(tmp_path)
        .replace("route=OX2", "route=OX=2")
        .replace(" loadfactor=50 route=OX1", " loadfactor=50")
    )
    found = _web_findings(tmp_path, conf, "AP001")
    assert [f.what for f in found] == [
        "BalancerMember ajp://oxgw01:8009 has no route",
        "BalancerMember ajp://oxgw02:8009 has route=OX=2",  # the value after the first '='
    ]
    assert all(f.severity == ERROR for f in found)
    assert found[0].why.startswith("the guide: --jkroute must equal the route"), found[0].why
    assert found[0].fix == "use the nodes' routes (OX1, OX2)", found[0].fix


def test_stickiness_may_be_set_on_the_proxypass_instead_of_proxyset(tmp_path: Path) -> None:
    """mod_proxy_balancer takes stickysession= as a ProxyPass parameter too; either way
    the balancer is sticky on JSESSIONID."""
    conf = _reference(tmp_path).replace("ProxySet stickysession=JSESSIONID", "")
    assert _web_findings(tmp_path, conf, "AP002"), "no stickiness at all: AP002"
    sticky = conf.replace(
        "ProxyPass balancer://oxcluster/ajax",
        "ProxyPass balancer://oxcluster/ajax stickysession=JSESSIONID|jsessionid",
    )
    assert not _web_findings(tmp_path / "second", sticky, "AP002")


def _site_findings(tmp_path: Path, site: str, rule: str) -> list[Finding]:
    toml = starter(tmp_path)
    (tmp_path / "web/oxlab.conf").write_text(site)
    return [f for f in findings(toml) if f.rule == rule]


PLAIN = "<VirtualHost *:80>\n    ServerName web\n    {}\n</VirtualHost>\n"


@pytest.mark.parametrize(
    ("line", "redirects"),
    [
        ("Redirect permanent / https://web/", True),
        ("redirect 301 / https://web/", True),
        ("RedirectMatch permanent ^/(.*)$ https://web/$1", True),
        ("RewriteRule ^ https://%{HTTP_HOST}%{REQUEST_URI} [R=301,L]", True),
        ("Redirect permanent / http://web:8080/", False),  # to plain HTTP again
        ("ServerAlias https.example.net", False),  # not a redirect at all
    ],
)
def test_ap005_accepts_every_redirect_to_https(tmp_path: Path, line: str, redirects: bool) -> None:
    """mod_alias's Redirect and RedirectMatch and mod_rewrite's RewriteRule all send the
    browser to HTTPS; anything else leaves passwords on plain HTTP."""
    found = _site_findings(tmp_path, PLAIN.format(line), "AP005")
    assert bool(found) is not redirects, f"{line}: {[f.render() for f in found]}"


@pytest.mark.parametrize(
    ("handler", "flagged"),
    [("balancer-manager", True), ("Balancer-Manager", True), ("server-status", False)],
)
def test_ap004_is_about_the_balancer_manager_only(
    tmp_path: Path, handler: str, flagged: bool
) -> None:
    site = (
        "<VirtualHost *:443>\n    ServerName web\n    <Location /admin>\n"
        f"        SetHandler {handler}\n    </Location>\n</VirtualHost>\n"
    )
    assert bool(_site_findings(tmp_path, site, "AP004")) is flagged, handler


def test_ap005_judges_each_port_80_host_by_its_own_directives(tmp_path: Path) -> None:
    """Two port-80 hosts with the same header: the second one's redirect does not cover
    the first; a redirect nested in <IfModule> inside the host counts."""
    site = PLAIN.format("ServerName a") + PLAIN.format("Redirect permanent / https://web/")
    [found] = _site_findings(tmp_path, site, "AP005")
    assert found.line == 1, found.render()
    nested = PLAIN.format(
        "<IfModule mod_alias.c>\n        Redirect permanent / https://web/\n    </IfModule>"
    )
    assert not _site_findings(tmp_path / "nested", nested, "AP005")


def test_inside_a_block_are_the_directives_up_to_its_end() -> None:
    directives = apache_directives(
        "<VirtualHost *:80>\n  A\n  <IfModule x>\n    B\n  </IfModule>\n</VirtualHost>\n"
        "<VirtualHost *:80>\n  C\n</VirtualHost>\nD\n"
    )
    first, second = (d for d in directives if d.name == "virtualhost")
    assert [d.name for d in inside(directives, first)] == ["a", "ifmodule", "b"]
    assert [d.name for d in inside(directives, second)] == ["c"]


def test_apache_files_without_a_balancer_are_not_judged_as_one(tmp_path: Path) -> None:
    """An operator's web file that proxies nothing through a balancer (their Apache only
    terminates TLS, say): no stickiness, lockdown or guide-path finding to make."""
    toml = starter(tmp_path)
    (tmp_path / "web/proxy_ajp.conf").write_text("ProxyRequests Off\nServerTokens Prod\n")
    rules = {f.rule for f in findings(toml)}
    assert not rules & {"AP002", "AP003", "AP006"}, rules


@pytest.mark.parametrize(
    "block",
    [
        '<LocationMatch "(?i)^/servlet(;[^/]*)?/axis2(;[^/]*)?/services(;[^/]*)?(/|$)">',
        "<Location /servlet/axis2>",
        "<Location /servlet/axis2/services>",
    ],
)
def test_ap003_accepts_any_block_around_the_axis2_path(tmp_path: Path, block: str) -> None:
    """The guide's LocationMatch, or a plain <Location> of /servlet/axis2 or below it:
    each keeps the SOAP provisioning API to the admins."""
    end = "</LocationMatch>" if block.startswith("<LocationMatch") else "</Location>"
    lockdown = f"{block}\n    Require ip 10.0.0.0/8\n{end}\n"
    conf = _reference(tmp_path)
    start = conf.index("<LocationMatch")
    stop = conf.index("</LocationMatch>") + len("</LocationMatch>\n")
    assert not _web_findings(tmp_path, conf[:start] + lockdown + conf[stop:], "AP003")


def test_a_member_without_an_address_is_named_as_it_stands(tmp_path: Path) -> None:
    """A bare `BalancerMember` (no URL) or one whose URL names no host: AP001 names what
    is there; AP007 has no host to map (Apache's own syntax check reports the line)."""
    conf = re.sub(
        r"BalancerMember ajp://oxgw02:8009 .*route=OX2",
        "BalancerMember\n      BalancerMember oxgw02-without-a-scheme route=OX2",
        _reference(tmp_path),
    )
    routes = [f.what for f in _web_findings(tmp_path, conf, "AP001")]
    assert routes == ["BalancerMember  has no route"], routes
    assert not _web_findings(tmp_path / "hosts", conf, "AP007")


def test_ap004_wants_the_restriction_in_the_same_block(tmp_path: Path) -> None:
    """Two <Location /balancer-manager> blocks: a Require in the second one does not
    restrict the first one's handler."""
    site = (
        "<VirtualHost *:443>\n    ServerName web\n"
        "    <Location /balancer-manager>\n        SetHandler balancer-manager\n"
        "    </Location>\n"
        "    <Location /balancer-manager>\n        Require ip 10.0.0.0/8\n    </Location>\n"
        "</VirtualHost>\n"
    )
    [found] = _site_findings(tmp_path, site, "AP004")
    assert found.line == 4, found.render()
    together = site.replace("    </Location>\n    <Location /balancer-manager>\n", "")
    assert not _site_findings(tmp_path / "together", together, "AP004")


def test_the_block_a_directive_sits_in() -> None:
    directives = apache_directives("<Location /a>\n  <If x>\n    B\n  </If>\n  C\n</Location>\nD\n")
    location, if_, b, c, d = directives
    assert enclosing(directives, b) is if_ and enclosing(directives, c) is location
    assert enclosing(directives, if_) is location and enclosing(directives, d) is None


def test_ap004_on_a_server_wide_balancer_manager(tmp_path: Path) -> None:
    """SetHandler outside any block serves the manager on every path: nothing restricts it."""
    site = "ServerName web\nSetHandler balancer-manager\n"
    [found] = _site_findings(tmp_path, site, "AP004")
    assert found.line == 2, found.render()


def test_ap005_judges_a_port_80_host_in_any_web_file(tmp_path: Path) -> None:
    """Apache serves a <VirtualHost *:80> wherever it is written: one added to
    proxy_ajp.conf without a redirect is plain HTTP like one in the site file."""
    conf = _reference(tmp_path) + PLAIN.format("ServerName other")
    [found] = _web_findings(tmp_path, conf, "AP005")
    assert found.file.name == "proxy_ajp.conf", found.render()
    redirected = conf.replace("ServerName other", "Redirect permanent / https://web/")
    assert not _web_findings(tmp_path / "redirected", redirected, "AP005")
