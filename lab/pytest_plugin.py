"""The lab as a pytest plugin (entry point `pytest11`): options in the "ox-lab" group,
the lab's markers, session-scoped lab fixtures, and container logs attached to every
failing test's report.

Under pytest-xdist each worker brings up its own lab (named after the worker, on its
own network): no lock, no shared state, at the price of one cluster per worker.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import pytest

from lab import suite_split
from lab.chaos.nemesis.leftovers import heal_lab
from lab.chaos.runner import ClientChoice, clients_chosen
from lab.cli import options
from lab.infra.docker_env import connect, docker_host_for_worker, parse_docker_hosts
from lab.infra.errors import ClusterFormationError, FlavourUnavailable, LabError
from lab.operator import parsers
from lab.plan.flavours import get_flavour
from lab.plan.topology import LabRequest
from lab.roles.db.galera import GaleraCluster
from lab.roles.db.gtid import GtidPair
from lab.roles.db.storage import DURABLE_MARKERS, describe_storage, storage_for_run
from lab.roles.dblb.front import DatabaseFront
from lab.roles.groupware.cluster import OxCluster
from lab.roles.groupware.role import GROUPWARE
from lab.roles.health import Unhealthy
from lab.roles.images import build_lab_images, registry_unavailable_reason
from lab.roles.system import Lab, LabOptions
from lab.verify.standin import StandinCluster, provision
from lab.verify.target import Target, target_from_inventory

MARKERS = {
    "galera": "Galera cluster behind HAProxy (the guide's Galera database setup)",
    "gtid": "GTID master/slave replication",
    "chaos": "failover under injected faults (slow; run before rollout)",
    "oxnode": "the groupware nodes (oxgw01, oxgw02) on a database lab",
    "guide": "the guide's whole cluster on GTID master/slave",
    "guide_galera": "the guide's whole cluster on Galera behind HAProxy",
    "balancer": "Apache's balancer in front of the groupware nodes",
    "session": "session load balancing and stickiness",
    "filestore": "the NFS filestore shared by the groupware nodes",
    "docker": "needs a Docker engine",
    "browser": "pages checked in headless Chromium (Debian's chromium package)",
    "dblb": "the load balancer options in front of the databases (keepalived pair, local)",
    "verify": "the guide's checks through an inventory: your hosts with --inventory, "
    "else stand-in hosts",
    "hosts": "stand-in hosts reached only over SSH and the services' ports",
    "remote": "a lab on a second Docker engine the test starts (DOCKER_HOST, tests/remote/)",
    "durable": "judges what survives a crash (acknowledged data, crash-safe replication): "
    "its labs keep real fsync (chaos tests too; lab/roles/db/storage.py)",
}
LOG_TAIL_LINES = 120

_active_labs: list[Lab] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    """The `lab` command's options under the same names and defaults (lab/cli/options.py);
    the names they had here before stay as aliases (--lab-config, --failover-profile,
    --sst-method, --lab-inventory, --lab-credentials, --chaos-seed, --chaos-client,
    --chaos-report-dir)."""
    options.add_pytest_options(parser.getgroup("ox-lab", "OX Cluster Lab").addoption)


def pytest_configure(config: pytest.Config) -> None:
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    keep_longest_first(config)
    engines = config.getoption("docker_hosts")
    if engines:  # before any client exists: testcontainers and the SDK read DOCKER_HOST
        try:
            os.environ["DOCKER_HOST"] = docker_host_for_worker(
                parse_docker_hosts(engines), _worker()
            )
        except LabError as exc:
            raise pytest.UsageError(f"ox-lab: {exc}") from None
    try:
        request = _request(config)
    except LabError as exc:
        raise pytest.UsageError(f"ox-lab: {exc}") from None
    problems = [
        p
        for f in _flavours(config)
        for p in replace(request, flavour=f).problems()
        if "cannot run topology" not in p
    ]
    if problems:
        raise pytest.UsageError("ox-lab: " + "; ".join(problems))


def _durations(config: pytest.Config) -> dict[str, float]:
    """pytest-split's --durations-path when it names a file, else the repository's."""
    given = Path(str(config.getoption("durations_path", default="") or ""))
    path = given if given.is_file() else config.rootpath / suite_split.DURATIONS_FILE
    try:
        return suite_split.read_durations(path)
    except LabError as exc:
        raise pytest.UsageError(f"ox-lab: {exc}") from None


def distributed(config: pytest.Config) -> bool:
    """xdist's own test: a --dist mode with no workers (-n 0, or none given) is one process."""
    return config.getoption("dist", default="no") != "no" and bool(
        config.getoption("tx", default=None)
    )


def keep_longest_first(config: pytest.Config) -> None:
    """Under xdist's loadfile, its scheduler re-sorts the modules by their number of
    tests before handing them out (--loadscope-reorder, on by default), undoing the
    longest-first order the workers collected: a slow module with few tests (the SST
    labs: 4 tests, 40 s) went last. Off, unless the command line asks for it."""
    if distributed(config) and "--loadscope-reorder" not in config.invocation_params.args:
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard K/N keeps this shard's tests; --longest-first (or -n) orders by module time.
    trylast: after pytest-randomly's shuffle and -m/-k, so the shard is cut from the
    tests this run would otherwise have run."""
    shard_text = config.getoption("shard")
    if not shard_text and not (config.getoption("longest_first") or distributed(config)):
        return
    durations = _durations(config)
    if shard_text:
        if config.getoption("splits", default=None):
            raise pytest.UsageError("ox-lab: --shard and pytest-split's --splits: use one")
        try:
            shard = suite_split.parse_shard(shard_text)
        except LabError as exc:
            raise pytest.UsageError(f"ox-lab: {exc}") from None
        mine, others, seconds = suite_split.split(items, shard, durations)
        items[:] = mine
        config.hook.pytest_deselected(items=others)
        basis = (
            f"about {seconds / 60:.1f} min by {suite_split.DURATIONS_FILE}"
            if durations
            else f"no {suite_split.DURATIONS_FILE}: split by number of tests"
        )
        config._ox_lab_shard = f"shard {shard}: {len(mine)} tests, {basis}"  # type: ignore[attr-defined]
    if config.getoption("longest_first") or distributed(config):
        items[:] = suite_split.longest_first(items, durations)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The labs' storage for this run, from the tests it will run (after -m, -k and
    --shard): fast when none of them needs real fsync (lab/roles/db/storage.py)."""
    config = session.config
    needing_disk = [
        item.nodeid
        for item in session.items
        if any(item.get_closest_marker(m) for m in DURABLE_MARKERS)
    ]
    try:
        storage = storage_for_run(config.getoption("storage"), needing_disk)
    except LabError as exc:
        raise pytest.UsageError(f"ox-lab: {exc}") from None
    config._ox_lab_storage = storage  # type: ignore[attr-defined]
    said = getattr(config, "_ox_lab_shard", None)
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and session.items:
        if said:
            reporter.write_line(f"ox-lab: {said}")
        if any(item.get_closest_marker("docker") for item in session.items):
            reporter.write_line(
                f"ox-lab: databases' storage {storage} ({describe_storage(storage)})"
            )
    if not config.option.collectonly:
        _build_images(session, reporter)


STANDIN_FIXTURES = ("standin_cluster", "guide_galera_standin_lab")


def images_wanted(items: list[pytest.Item]) -> str | None:
    """None: no selected test needs Docker; "role": the role images; "standin": the
    stand-in hosts' images too (a test uses the stand-in cluster)."""
    needing = [item for item in items if item.get_closest_marker("docker")]
    if not needing:
        return None
    uses = {name for item in needing for name in getattr(item, "fixturenames", ())}
    return "standin" if uses.intersection(STANDIN_FIXTURES) else "role"


def lock_path(client: docker.DockerClient, what: str) -> Path:
    engine = hashlib.sha256(client.api.base_url.encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"oxlab-{what}-{engine}.lock"


@contextlib.contextmanager
def engine_lock(client: docker.DockerClient, what: str) -> Iterator[None]:
    """An exclusive lock per Docker engine and purpose, held across xdist workers (and
    across test runs on one machine): a file lock in the temporary directory."""
    with open(lock_path(client, what), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        yield


@pytest.fixture(autouse=True)
def _one_chaos_test_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under xdist, chaos tests run one at a time across the workers: they measure
    gaps, stalls and deadlines in wall-clock time, and on 2 cores a second chaos run
    beside one made `lab status` miss its 5 s deadline during a reconnect storm (5.53 s).
    The other tests still run beside a chaos test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if request.node.get_closest_marker("chaos") is None or not worker:
        yield
        return
    with engine_lock(request.getfixturevalue("docker_client"), "chaos"):
        yield


def _build_images(session: pytest.Session, reporter: Any) -> None:
    """Every image the selected tests' labs run, built before the first test (as `lab
    images build [--standin-hosts]` builds them), so an image build is one header line
    and no test's duration: the durations shards are cut by stay true on a fresh
    machine. Under xdist the workers take turns on a lock per engine: the first
    builds, the others find the images current."""
    wanted = images_wanted(session.items)
    if wanted is None:
        return
    standin = wanted == "standin"
    flavours = [get_flavour(f) for f in _flavours(session.config)]
    buildable = [f for f in flavours if not f.from_registry]  # the others' tests skip
    write = reporter.write_line if reporter is not None else (lambda _line: None)
    built: list[str] = []

    def progress(line: str) -> None:
        if not line.endswith("is up to date"):
            built.append(line)
            write(f"ox-lab: {line}")

    started = time.monotonic()
    try:
        client = connect()
        with engine_lock(client, "images"):
            ready = build_lab_images(client, buildable, standin, progress)
    except LabError as exc:
        raise pytest.UsageError(f"ox-lab: {exc}") from None
    kinds = "role and stand-in" if standin else "role"
    write(
        f"ox-lab: {ready} {kinds} images ready in {time.monotonic() - started:.1f}s "
        f"({'built what was missing or stale' if built else 'all current'})"
    )


def _value(config: pytest.Config) -> Callable[[str], Any]:
    return lambda dest: config.getoption(dest, default=None)


def _flavours(config: pytest.Config) -> list[str]:
    return options.flavours_of(_value(config), _request(config).project)


def _request(config: pytest.Config) -> LabRequest:
    """Options win over oxlab.toml (--config, else the current directory's or the
    rootdir's), which wins over the lab's defaults; read once, as `lab` reads them."""
    cached: LabRequest | None = getattr(config, "_ox_lab_request", None)
    if cached is None:
        project = options.project_of(
            config.getoption("config"), Path.cwd(), Path(str(config.rootpath))
        )
        cached = options.request_of(_value(config), project, one_flavour=False)
        config._ox_lab_request = cached  # type: ignore[attr-defined]
    return cached


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a lab runs once per --flavour (test ids name the flavour)."""
    if "flavour" in metafunc.fixturenames:
        flavours = _flavours(metafunc.config)
        metafunc.parametrize("flavour", flavours, ids=flavours, scope="session")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _fail(exc: LabError) -> None:
    detail = f"\n{exc.excerpt}" if isinstance(exc, ClusterFormationError) and exc.excerpt else ""
    pytest.fail(f"{exc}{detail}", pytrace=False)


@pytest.fixture(scope="session")
def lab_request(pytestconfig: pytest.Config) -> LabRequest:
    """The lab the command line asked for (--flavour, --profile, --sst), on the storage
    this run's tests allow (pytest_collection_finish)."""
    storage = getattr(pytestconfig, "_ox_lab_storage", None) or _request(pytestconfig).storage
    return replace(_request(pytestconfig), storage=storage)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        return connect()
    except LabError as exc:
        _fail(exc)
        raise


@pytest.fixture(scope="session")
def lab_factory(
    docker_client: docker.DockerClient,
) -> Iterator[Callable[..., Lab]]:
    """Start labs on demand; each is removed at the end of the session (or sooner by
    calling its .down()). Failures to start become one readable test failure."""
    started: list[Lab] = []

    def start(request: LabRequest, **options: object) -> Lab:
        lab = Lab(request, LabOptions(**options), client=docker_client)  # type: ignore[arg-type]
        started.append(lab)
        _active_labs.append(lab)
        lab.up()
        return lab

    yield start
    for lab in started:
        lab.down()
        _active_labs.remove(lab)


@pytest.fixture
def own_lab_factory(lab_factory: Callable[..., Lab]) -> Iterator[Callable[..., Lab]]:
    """Labs for one test: removed when it ends, not at the session's end (an idle lab's
    health checks take CPU that other tests' deadlines need)."""
    mine: list[Lab] = []

    def start(request: LabRequest, **options: object) -> Lab:
        lab = lab_factory(request, **options)
        mine.append(lab)
        return lab

    yield start
    for lab in mine:
        lab.down()


def module_lab(lab: Lab) -> Iterator[Lab]:
    """For a module-scoped fixture: yield the lab, remove it when the module is done."""
    yield lab
    lab.down()


def runnable_request(
    docker_client: docker.DockerClient, request: LabRequest, flavour: str, topology: str
) -> LabRequest:
    """The request for `topology` on `flavour`, or a skip that says why this host or this
    flavour cannot run it (never a silent skip)."""
    spec = get_flavour(flavour)
    if topology not in spec.topologies:
        pytest.skip(f"flavour {flavour} does not run the {topology} topology")
    if spec.from_registry:
        reason = registry_unavailable_reason(docker_client, spec)
        pytest.skip(reason or f"flavour {flavour}: the lab cannot build on registry images yet")
    wanted = replace(request, flavour=flavour, topology=topology)
    if request.project and wanted.problems():
        # the operator's files describe another kind of cluster (Galera vs GTID)
        pytest.skip("; ".join(wanted.problems()))
    return wanted


def skip_if_operator_sets(request: LabRequest, *keys: str) -> None:
    """A test that varies one of the lab's own settings (SST method, provider path) says
    nothing about operator files that pin it: skipped, naming their line."""
    if request.project is None:
        return
    for f in request.project.files_of("db"):
        for key, setting in parsers.server_settings(f.text).items():
            if key in keys:
                pytest.skip(
                    f"{f.path}:{setting.line} sets {key}, which this test varies; it tests "
                    "the lab's own rendering (run it without --config)"
                )


def _lab(lab_factory: Callable[..., Lab], request: LabRequest, **options: object) -> Lab:
    try:
        return lab_factory(request, **options)
    except FlavourUnavailable as exc:
        pytest.skip(str(exc))
    except LabError as exc:
        _fail(exc)
    raise AssertionError("unreachable")


def _topology_lab(
    topology: str,
    doc: str,
    dblb: str = "single",
    scope: str = "session",
    **options: object,
) -> Any:
    """A fixture: the lab of `topology` (with the load balancer option `dblb`) for the
    test's --flavour (one per flavour and xdist worker), or a skip saying why this host
    or flavour cannot run it. scope "module": removed when the module's tests are done
    (an idle lab's health checks take CPU that other tests' deadlines need)."""
    suffix = {"single": "", "keepalived": "_pair", "local": "_local"}[dblb]

    @pytest.fixture(scope=scope, name=f"{topology.replace('-', '_')}{suffix}_lab")  # type: ignore[call-overload]
    def fixture(
        lab_factory: Callable[..., Lab],
        lab_request: LabRequest,
        docker_client: docker.DockerClient,
        flavour: str,
    ) -> Iterator[Lab]:
        request = runnable_request(docker_client, lab_request, flavour, topology)
        request = replace(request, dblb=dblb)
        name = f"pytest-{_worker()}-{topology}{suffix.replace('_', '-')}-{flavour}"
        lab = _lab(lab_factory, request, name=name, **options)
        yield lab
        if scope != "session":
            lab.down()

    fixture.__doc__ = doc
    return fixture


galera_lab = _topology_lab("galera", "3-node Galera + HAProxy.")
# replcheck's lag threshold is 3 s here, so the lag test needs only a few seconds
gtid_lab = _topology_lab("gtid", "GTID dbmaster/dbslave + HAProxy.", max_lag_s=3.0)
guide_lab = _topology_lab(
    "guide", "The guide's whole cluster: web, oxgw01, oxgw02, dbmaster, dbslave, filestore."
)
guide_galera_lab = _topology_lab(
    "guide-galera", "The guide's cluster on Galera: web, oxgw01/02, galera1-3, dblb, filestore."
)
galera_pair_lab = _topology_lab(
    "galera",
    "3-node Galera behind the keepalived pair dblb1/dblb2.",
    dblb="keepalived",
    scope="module",
)
guide_galera_local_lab = _topology_lab(
    "guide-galera",
    "The guide's cluster on Galera, HAProxy on each groupware node.",
    dblb="local",
    scope="module",
)


@pytest.fixture(scope="module")
def guide_galera_standin_lab(
    lab_factory: Callable[..., Lab],
    lab_request: LabRequest,
    docker_client: docker.DockerClient,
    pytestconfig: pytest.Config,
) -> Iterator[Lab]:
    """The guide's cluster on Galera as stand-in hosts (an SSH server in every role
    container), on the first --flavour; removed when the module is done."""
    flavour = _flavours(pytestconfig)[0]
    request = runnable_request(docker_client, lab_request, flavour, "guide-galera")
    yield from module_lab(
        _lab(lab_factory, request, name=f"pytest-{_worker()}-standin-{flavour}", standin_hosts=True)
    )


@pytest.fixture(scope="module")
def standin_cluster(
    guide_galera_standin_lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> StandinCluster:
    """The stand-in lab handed over as an operator holds a staging cluster: inventory,
    credentials, key, known_hosts (lab/verify/standin.py)."""
    guide_galera_standin_lab.wait_healthy()
    try:
        return provision(guide_galera_standin_lab, tmp_path_factory.mktemp("standin"))
    except LabError as exc:
        _fail(exc)
        raise


@pytest.fixture(scope="module")
def verify_target(request: pytest.FixtureRequest) -> Target:
    """What `-m verify` checks: --inventory (or oxlab.toml's [verify]) over SSH, else
    the stand-in hosts through their inventory: the same path either way."""
    config = request.config
    project = _request(config).project
    inventory = config.getoption("inventory") or (project and project.inventory)
    credentials = config.getoption("credentials") or (project and project.credentials)
    if not inventory:
        cluster: StandinCluster = request.getfixturevalue("standin_cluster")
        inventory, credentials = cluster.inventory, cluster.credentials
    if not credentials:
        raise pytest.UsageError(
            "ox-lab: --inventory needs --credentials (or oxlab.toml [verify] credentials)"
        )
    try:
        target = target_from_inventory(Path(inventory), Path(credentials))
        target.preflight()
    except LabError as exc:
        _fail(exc)
        raise
    return target


@pytest.fixture(scope="session")
def galera_cluster(galera_lab: Lab) -> GaleraCluster:
    assert galera_lab.galera is not None
    return galera_lab.galera


@pytest.fixture(scope="session")
def dblb(galera_lab: Lab) -> DatabaseFront:
    assert galera_lab.dblb is not None
    return galera_lab.dblb


@pytest.fixture(scope="session")
def gtid_pair(gtid_lab: Lab) -> GtidPair:
    assert gtid_lab.gtid is not None
    return gtid_lab.gtid


def start_ox_cluster(lab: Lab, clustering: bool = True) -> OxCluster:
    """oxgw01/oxgw02 on `lab`'s network, set up by the guide's sequence; the databases
    as the guide registers them (GTID: master and slave; Galera: HAProxy's listeners)."""
    try:
        return GROUPWARE.launch(lab, clustering=clustering)
    except LabError as exc:
        _fail(exc)
        raise


@pytest.fixture(scope="session")
def ox_cluster(gtid_lab: Lab) -> OxCluster:
    """The guide's two groupware nodes on the GTID lab (monitor on, clustering on)."""
    return start_ox_cluster(gtid_lab)


@pytest.fixture(scope="session")
def ox_galera_cluster(galera_lab: Lab) -> OxCluster:
    """The guide's two groupware nodes on the Galera lab, databases behind HAProxy."""
    return start_ox_cluster(galera_lab)


# lab name -> the test that last left it unhealthy (a later set-up names it)
_left_broken: dict[str, str] = {}


def _healthy(lab: Lab, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A shared lab, checked healthy before a test that injects faults, and after it,
    so one test's fault never leaks into the next test's verdict. A test that leaves the
    lab unhealthy fails in its teardown with the nodes' states, and the lab is healed
    the documented way (heal_lab: Galera's quorum restored) for the tests after it; a
    lab that cannot be healed fails the next set-up naming the test that broke it."""
    name = lab.options.name
    if lab.problems_now():
        healing = heal_lab(lab)
        try:
            lab.wait_healthy()
        except Unhealthy as exc:
            culprit = _left_broken.get(name, "an earlier test")
            raise Unhealthy(
                f"{culprit} left lab {name} broken; healing did not help: {exc}; "
                f"tried: {'; '.join(healing.healed + healing.failed)}"
            ) from None
    yield lab
    try:
        lab.wait_healthy()
    except Unhealthy as exc:
        _left_broken[name] = request.node.nodeid
        states = lab.describe_health()
        healing = heal_lab(lab)
        lab.wait_healthy()
        _left_broken.pop(name, None)
        pytest.fail(
            f"the test left lab {name} unhealthy ({exc}; {states}); healed for the next "
            f"tests: {'; '.join(healing.healed) or 'it recovered by itself'}",
            pytrace=False,
        )


@pytest.fixture
def healthy_gtid_lab(gtid_lab: Lab, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The shared GTID lab, checked healthy before and after a test that injects faults."""
    yield from _healthy(gtid_lab, request)


@pytest.fixture
def healthy_lab(galera_lab: Lab, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The shared Galera lab, checked healthy before and after a fault-injecting test."""
    yield from _healthy(galera_lab, request)


@pytest.fixture
def healthy_pair_lab(galera_pair_lab: Lab, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The Galera lab behind the keepalived pair, checked healthy before and after."""
    yield from _healthy(galera_pair_lab, request)


@pytest.fixture
def healthy_local_lab(guide_galera_local_lab: Lab, request: pytest.FixtureRequest) -> Iterator[Lab]:
    """The guide on Galera with HAProxy on each groupware node, checked healthy."""
    yield from _healthy(guide_galera_local_lab, request)


@pytest.fixture(autouse=True)
def _chaos_clients(pytestconfig: pytest.Config) -> Iterator[None]:
    """--client for every chaos run the test makes (default: OX's pool)."""
    with clients_chosen(ClientChoice.of(pytestconfig.getoption("client") or [])):
        yield


@pytest.fixture
def chaos_seed(pytestconfig: pytest.Config) -> int:
    return int(pytestconfig.getoption("seed"))


@pytest.fixture
def chaos_report_dir(pytestconfig: pytest.Config) -> Path:
    return Path(str(pytestconfig.getoption("report_dir")))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.failed and _active_labs:
        for lab in list(_active_labs):
            try:
                logs = lab.logs(tail=LOG_TAIL_LINES)
            except (docker.errors.DockerException, LabError) as exc:
                logs = {"(logs)": f"could not read container logs: {exc}"}
            for node, text in logs.items():
                report.sections.append((f"lab {lab.options.name} container {node}", text))
