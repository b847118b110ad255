"""Failover profiles: the HAProxy health-check timing and Galera group-communication
timeouts that together decide how long writes stall when a node dies.

Operators want both numbers, so the lab offers OX's published settings and a tuned
profile side by side (measured here: about 35 s vs 2 s of write gap for a killed writer;
docs/measured.md has the figures per client).
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.infra.errors import lookup


@dataclass(frozen=True)
class CheckTiming:
    """One HAProxy listener's `check` parameters (milliseconds, counts)."""

    inter_ms: int
    rise: int
    fall: int

    @property
    def detection_ms(self) -> int:
        """Worst-case time for HAProxy to take a failing server out: inter * fall."""
        return self.inter_ms * self.fall


@dataclass(frozen=True)
class FailoverProfile:
    name: str
    description: str
    read: CheckTiming
    write: CheckTiming
    timeout_connect: str  # HAProxy: a dead container's address gives no RST, so this matters
    timeout_check: str | None  # None: HAProxy's default (the check shares connect/inter)
    evs_options: tuple[tuple[str, str], ...]  # Galera wsrep_provider_options; () = defaults

    def check_connect_ms(self, timing: CheckTiming) -> int:
        """How long a check waits for a dead address to answer: without `timeout check`
        the whole check may take inter; with it, HAProxy connects with min(timeout
        connect, inter) (measured: "check duration: 6001ms" with timeout connect 2s
        alone, under OX's inter 6000)."""
        if self.timeout_check is None:
            return timing.inter_ms
        return min(haproxy_ms(self.timeout_connect), timing.inter_ms)

    @property
    def eviction_s(self) -> float:
        """Longest time a silent (frozen or cut-off) member stays in the view: Galera
        declares it inactive after evs.inactive_timeout, checked every
        evs.inactive_check_period. Writes that wait for it may stall this long."""
        return eviction_of(dict(self.evs_options))


# Galera's own defaults (galera documentation, "Galera Parameters")
GALERA_EVS_DEFAULTS = {
    "evs.suspect_timeout": "PT5S",
    "evs.inactive_timeout": "PT15S",
    "evs.inactive_check_period": "PT1S",
}


def eviction_of(options: dict[str, str]) -> float:
    """How long a silent member stays in the view, from Galera's provider options (its
    defaults where they say nothing): evs.inactive_timeout + evs.inactive_check_period."""
    merged = {**GALERA_EVS_DEFAULTS, **options}
    return iso_seconds(merged["evs.inactive_timeout"]) + iso_seconds(
        merged["evs.inactive_check_period"]
    )


def provider_options(text: str) -> dict[str, str]:
    """wsrep_provider_options as a running server reports it ("a = b; c = d") or a
    my.cnf sets it, as a dict."""
    pairs = (item.split("=", 1) for item in text.split(";") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def haproxy_ms(duration: str) -> int:
    """A HAProxy time ("60s", "400ms", "2m", bare milliseconds) in milliseconds."""
    for unit, factor in (("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)):
        if duration.endswith(unit) and duration[: -len(unit)].isdigit():
            return int(duration[: -len(unit)]) * factor
    return int(duration)


def iso_seconds(duration: str) -> float:
    """An ISO 8601 duration of seconds as Galera writes them (PT1S, PT0.5S; read in any
    case). ValueError for anything else."""
    return float(duration.strip().upper().removeprefix("PT").removesuffix("S"))


def suspect_timeout_of(options: dict[str, str]) -> float:
    """evs.suspect_timeout from Galera's provider options (its PT5S default where they say
    nothing): how long a node may stall without being suspected (lint DB010)."""
    merged = {**GALERA_EVS_DEFAULTS, **options}
    return iso_seconds(merged["evs.suspect_timeout"])


PROFILES: dict[str, FailoverProfile] = {
    p.name: p
    for p in (
        FailoverProfile(
            name="ox",
            description="the settings OX publishes: inter 6000 rise 3 fall 3, timeout connect 60s",
            read=CheckTiming(inter_ms=6000, rise=3, fall=3),
            write=CheckTiming(inter_ms=6000, rise=3, fall=2),
            timeout_connect="60s",
            timeout_check=None,
            evs_options=(),
        ),
        FailoverProfile(
            name="ox-2s-timeouts",
            description="OX's checks with `timeout connect 2s` and `timeout check 2s`: a "
            "check (and a client's connection) to a dead address gives up after 2 s",
            read=CheckTiming(inter_ms=6000, rise=3, fall=3),
            write=CheckTiming(inter_ms=6000, rise=3, fall=2),
            timeout_connect="2s",
            timeout_check="2s",
            evs_options=(),
        ),
        FailoverProfile(
            name="fast",
            description="tuned: HAProxy inter 500 fall 2, check 400ms, connect 1s; evs 3-5 s",
            read=CheckTiming(inter_ms=500, rise=2, fall=2),
            write=CheckTiming(inter_ms=500, rise=2, fall=2),
            timeout_connect="1s",
            timeout_check="400ms",
            evs_options=(
                ("evs.keepalive_period", "PT0.3S"),
                # suspect_timeout is the stall budget (lint DB010's [lint] stall_budget_s,
                # 3 s, which this meets): a survivor that stalls longer than it while
                # another node dies is suspected with the dead one, and the cluster stays
                # non-Primary until the dead node is back (measured: a 1.5 s freeze of
                # galera3 as galera1 was killed, at PT1S).
                ("evs.suspect_timeout", "PT3S"),
                ("evs.inactive_timeout", "PT5S"),
                ("evs.inactive_check_period", "PT0.5S"),
                # While the survivors agree on a new view (GATHER) they hear from each
                # other only by join messages, resent every join_retrans_period: Galera's
                # PT1S default equals the 1 s suspect_timeout above, so a survivor would
                # suspect the other survivor too, the install round would time out and
                # both would fall back to non-Primary singletons (seen in the partition
                # and pause scenarios on 2 cores). Scaled like the rest: keepalive's 0.3 s.
                ("evs.join_retrans_period", "PT0.3S"),
                # Galera 4 accepts [keepalive_period, inactive_timeout) only (PT5S is
                # refused "out of range"); below inactive_timeout with room for several
                # join rounds
                ("evs.install_timeout", "PT4S"),
            ),
        ),
    )
}

DEFAULT_PROFILE = "fast"


def get_profile(name: str) -> FailoverProfile:
    return lookup(PROFILES, name, "failover profile")
