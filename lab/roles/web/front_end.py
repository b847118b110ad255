"""The `web` role: the guide's Apache front end. proxy_ajp.conf is rendered as the guide
writes it (balancer://oxcluster, one BalancerMember per groupware node with its route,
stickysession=JSESSIONID, the ProxyPass paths, the SOAP provisioning API locked down),
served over HTTPS with a certificate from the run's own CA; plain HTTP redirects."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import docker
import requests
from docker.models.containers import Container
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network

from lab.infra.docker_env import RunIdentity
from lab.infra.errors import StartupError, lookup
from lab.infra.nodes import Node, container_spec, put_file, start_container
from lab.infra.tls import make_certificates
from lab.infra.waiting import poll
from lab.roles.images import web_image

PROXIED_PATHS = (
    "/ajax",
    "/servlet",
    "/infostore",
    "/publications",
    "/Microsoft-Server-ActiveSync",
    "/usm-json",
)
# the guide puts it in conf.d; here it is included by the HTTPS vhost only, so plain
# HTTP gets nothing but the redirect
CONF = "/etc/apache2/oxlab/proxy_ajp.conf"
SITE = "/etc/apache2/sites-enabled/oxlab.conf"
CA_FILE = "/etc/apache2/ssl/lab-ca.pem"
CERT_FILE = "/etc/apache2/ssl/web.pem"
KEY_FILE = "/etc/apache2/ssl/web.key"
BALANCER = "oxcluster"  # the guide's balancer://oxcluster


@dataclass(frozen=True)
class WebFiles:
    """The operator's Apache files, used as they are, and the paths their site names
    for the certificate and for proxy_ajp.conf (the lab puts its own there too)."""

    proxy_ajp_conf: bytes | None = None
    site: bytes | None = None
    cert_paths: tuple[str, ...] = ()
    key_paths: tuple[str, ...] = ()
    proxy_ajp_paths: tuple[str, ...] = ()


NO_WEB_FILES = WebFiles()


@dataclass(frozen=True)
class Member:
    host: str
    route: str
    loadfactor: int = 50


# The guide's <Location /servlet/axis2/services> misses "/servlet/axis2/services;x":
# Apache compares the (decoded, dot-segment-resolved, slash-merged) path with its path
# parameters, while the servlet container strips ";..." from every segment before it maps
# the request (lab/oxnode/servlet.py). This pattern also takes path parameters on every
# segment and any letter case.
PROVISIONING_PATTERN = r"(?i)^/servlet(;[^/]*)?/axis2(;[^/]*)?/services(;[^/]*)?(/|$)"
# What a servlet container maps to the provisioning API (lab/oxnode/servlet.py), each way
# of writing it; the case variants are not mapped (servlet mapping is case-sensitive)
# but must be denied all the same.
PROVISIONING_VARIANTS = (
    "/servlet/axis2/services",
    "/servlet/axis2/services/OXContextService",
    "/servlet/axis2/services;x",
    "/servlet/axis2/services;jsessionid=0123/",
    "/servlet;x/axis2;y/services",
    "/servlet/axis2/services%3Bx/../services",
    "/servlet/axis2/%73ervices",
    "/servlet/axis2%2Fservices",
    "//servlet//axis2/services",
    "/servlet/./axis2/services",
    "/servlet/axis2/x/../services",
)
CASE_VARIANTS = ("/SERVLET/axis2/services", "/servlet/AXIS2/Services")
LOCKDOWNS = ("strict", "guide")  # "guide": the guide's literal block, to show the bypass


def render_proxy_ajp_conf(
    members: Sequence[Member],
    provisioning_allowed: Sequence[str],
    protocol: str = "ajp",
    lockdown: str = "strict",
    fail_on_503: bool = False,
) -> str:
    """The guide's proxy_ajp.conf; protocol "http" gives the mod_proxy_http variant
    (BalancerMember http://host:8080), the rest unchanged. The SOAP lock-down is the
    guide's block with a LocationMatch that path parameters cannot walk around
    (lockdown="guide" renders the guide's <Location> as written). fail_on_503: the
    balancer puts a member that answers 503 into error and moves its users (OX answers
    503 when it cannot reach its database: with HAProxy on each node, `--dblb local`, a
    node whose own HAProxy died is only noticed this way)."""
    lookup({name: name for name in LOCKDOWNS}, lockdown, "SOAP lock-down")
    port = 8009 if protocol == "ajp" else 8080
    section = (
        ("<Location /servlet/axis2/services>", "</Location>")
        if lockdown == "guide"
        else (f'<LocationMatch "{PROVISIONING_PATTERN}">', "</LocationMatch>")
    )
    lines = [
        section[0],
        "   # restrict access to the soap provisioning API",
        "   Order Deny,Allow",
        "   Deny from all",
        f"   Allow from {' '.join(provisioning_allowed)}",
        section[1],
        "",
        "<IfModule mod_proxy_ajp.c>",
        "  ProxyRequests Off",
        f"  <Proxy balancer://{BALANCER}>",
        "      Order deny,allow",
        "      Allow from all",
    ]
    lines += [
        f"      BalancerMember {protocol}://{m.host}:{port} timeout=100 smax=0 ttl=60 "
        f"retry=60 loadfactor={m.loadfactor} route={m.route}"
        for m in members
    ]
    proxy_set = "stickysession=JSESSIONID" + (" failonstatus=503" if fail_on_503 else "")
    lines += [f"      ProxySet {proxy_set}", "  </Proxy>"]
    for path in PROXIED_PATHS:
        lines += [
            f"  <Location {path}>",
            f"      ProxyPass balancer://{BALANCER}{path}",
            "  </Location>",
        ]
    lines += ["</IfModule>", ""]
    return "\n".join(lines)


def render_site_conf(server_name: str, admin_allowed: Sequence[str]) -> str:
    """HTTPS with the run's certificate; plain HTTP redirected (the guide recommends
    both); balancer-manager for the admin network only."""
    return "\n".join(
        [
            "<VirtualHost *:80>",
            f"    ServerName {server_name}",
            f"    Redirect permanent / https://{server_name}/",
            "</VirtualHost>",
            "<VirtualHost *:443>",
            f"    ServerName {server_name}",
            "    SSLEngine on",
            f"    SSLCertificateFile {CERT_FILE}",
            f"    SSLCertificateKeyFile {KEY_FILE}",
            f"    Include {CONF}",
            "    <Location /balancer-manager>",
            "        SetHandler balancer-manager",
            f"        Require ip {' '.join(admin_allowed)}",
            "    </Location>",
            "</VirtualHost>",
            "",
        ]
    )


class WebNode(Node):
    """Apache, the front end; `ca_path` is the lab's CA on this side (for verify=)."""

    def __init__(self, container: Container, ca_path: str) -> None:
        super().__init__(container)
        self.ca_path = ca_path
        self._nonce = ""  # the balancer-manager's CSRF nonce, read with the worker table

    @classmethod
    def launch(
        cls,
        client: docker.DockerClient,
        run: RunIdentity,
        network: Network,
        members: Sequence[Member],
        admin_allowed: Sequence[str],
        ca_path: str,
        protocol: str = "ajp",
        files: WebFiles = NO_WEB_FILES,
        fail_on_503: bool = False,
    ) -> WebNode:
        spec = web_spec(run, network, members, admin_allowed, protocol, files, fail_on_503)
        node = cls(start_container(spec, run).container, ca_path)
        # Apache waits for its certificate, which names the address it just got.
        certs = make_certificates(["web", "localhost"], [node.ip, "127.0.0.1"], run.run_id)
        put_file(node, CA_FILE, certs.ca_pem)
        for path in files.cert_paths:  # where the operator's site looks for them
            put_file(node, path, certs.cert_pem)
        for path in files.key_paths:
            put_file(node, path, certs.key_pem, 0o600)
        put_file(node, CERT_FILE, certs.cert_pem)
        put_file(node, KEY_FILE, certs.key_pem, 0o600)
        with open(ca_path, "wb") as f:
            f.write(certs.ca_pem)
        node.wait_serving()
        return node

    def reconfigure(
        self,
        members: Sequence[Member],
        protocol: str = "ajp",
        lockdown: str = "strict",
        fail_on_503: bool = False,
    ) -> None:
        """Rewrite proxy_ajp.conf (load factors, AJP or HTTP members, the lock-down) and
        reload Apache gracefully, as an operator would after editing it."""
        conf = render_proxy_ajp_conf(members, ["127.0.0.1"], protocol, lockdown, fail_on_503)
        put_file(self, CONF, conf.encode())
        result = self.exec(["apache2ctl", "graceful"])
        if result.exit_code != 0:
            raise StartupError(f"apache2ctl graceful failed: {result.output.strip()}")
        self.wait_serving()

    def reset_balancer(self) -> None:
        """Put workers in Err back into rotation through the balancer-manager instead of
        waiting out retry=60. Apache 2.4's manager has no "clear error" switch, but a
        worker with Ignore Errors (I) set is retried at the next balancing decision,
        which clears Err; I is then switched off again. Done from the admin network
        (the Docker host), with the CSRF nonce and the same-host Referer it demands."""
        erring = [w for w, status in self.balancer_workers().items() if "Err" in status]
        for worker in erring:
            self._set_worker_flag(worker, "I", True)
        try:

            def cleared() -> bool:
                # any request through the balancer makes it choose, hence retry
                requests.get(f"{self.https_url}/ajax/oxnode", verify=self.ca_path, timeout=5)
                workers = self.balancer_workers()
                return not any("Err" in workers[w] for w in erring)

            poll(cleared, timeout=10, what=f"{erring} to leave Err", interval=0.2)
        finally:
            for worker in erring:
                self._set_worker_flag(worker, "I", False)

    @property
    def balancer_manager(self) -> str:
        return f"{self.https_url}/balancer-manager"

    def balancer_workers(self) -> dict[str, str]:
        """Worker URL -> status column of the balancer-manager ("Init Ok", "Init Err")."""
        page = requests.get(self.balancer_manager, verify=self.ca_path, timeout=5).text
        self._nonce = re.search(r"nonce=([0-9a-f-]+)", page).group(1)  # type: ignore[union-attr]
        workers = {}
        for row in re.findall(r"<tr>\s*<td><a href=[^>]*\bw=.*?</tr>", page, re.S):
            cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row)]
            workers[cells[0]] = cells[5]
        return workers

    def _set_worker_flag(self, worker: str, flag: str, on: bool) -> None:
        form = {
            f"w_status_{flag}": "1" if on else "0",
            "w": worker,
            "b": BALANCER,
            "nonce": self._nonce,
        }
        resp = requests.post(
            self.balancer_manager,
            data=form,
            headers={"Referer": self.balancer_manager},
            verify=self.ca_path,
            timeout=5,
        )
        resp.raise_for_status()

    @property
    def https_url(self) -> str:
        return f"https://{self.ip}"

    def wait_serving(self, timeout: float = 30.0) -> None:
        poll(
            lambda: (
                requests.get(f"http://{self.ip}/", timeout=2, allow_redirects=False).status_code
                == 301
            ),
            timeout=timeout,
            what="Apache to answer",
            retry_on=(requests.RequestException,),
        )


def web_spec(
    run: RunIdentity,
    network: Network | None,
    members: Sequence[Member],
    admin_allowed: Sequence[str],
    protocol: str = "ajp",
    files: WebFiles = NO_WEB_FILES,
    fail_on_503: bool = False,
) -> DockerContainer:
    """Apache with proxy_ajp.conf and the vhosts (the lab's or the operator's); its
    certificate comes once it runs."""
    conf = (
        files.proxy_ajp_conf
        or render_proxy_ajp_conf(members, ["127.0.0.1"], protocol, fail_on_503=fail_on_503).encode()
    )
    site = files.site or render_site_conf("web", admin_allowed).encode()
    spec = container_spec(run, network, web_image().tag, "web", "web")
    for path in (CONF, *files.proxy_ajp_paths):
        spec = spec.with_copy_into_container(conf, path)
    return spec.with_copy_into_container(site, SITE)
