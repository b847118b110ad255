"""Clustering between groupware nodes, as the guide's JCS setup does it: nodes find each
other by UDP multicast (group and port configurable; a static member list instead where
multicast is not wanted) and keep TCP connections to every peer, over which folder-cache
invalidations travel. Turned off, each node keeps serving its own cache until it expires:
the guide's "User B will not be able to access this folder" problem."""

from __future__ import annotations

import json
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger("oxnode.cluster")
TCP_PORT = 57461  # the guide's netstat shows the groupware's cache port 57461


@dataclass
class ClusterSettings:
    node: str
    group: str = "239.255.0.1"
    udp_port: int = 6780
    static_members: tuple[str, ...] = ()  # hostnames; empty: multicast discovery
    announce_every_s: float = 1.0


@dataclass
class Peer:
    name: str
    address: str
    sock: socket.socket | None = None
    last_seen: float = field(default_factory=time.monotonic)


class Cluster:
    def __init__(self, settings: ClusterSettings, on_invalidate: Callable[[int], None]) -> None:
        self.settings = settings
        self.on_invalidate = on_invalidate
        self.peers: dict[str, Peer] = {}
        self.received = 0
        self.sent = 0
        self._lock = threading.Lock()

    def start(self) -> None:
        threading.Thread(target=self._accept, daemon=True).start()
        threading.Thread(target=self._announce, daemon=True).start()
        if not self.settings.static_members:
            threading.Thread(target=self._discover, daemon=True).start()

    # -- discovery ---------------------------------------------------------------------------

    def _announce(self) -> None:
        s = self.settings
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        hello = json.dumps({"node": s.node, "port": TCP_PORT}).encode()
        while True:
            if s.static_members:
                for member in s.static_members:
                    if member != s.node:
                        self._learn(member, member)
            else:
                try:
                    sender.sendto(hello, (s.group, s.udp_port))
                except OSError as exc:
                    log.warning("multicast announce failed: %s", exc)
            time.sleep(s.announce_every_s)

    def _discover(self) -> None:
        s = self.settings
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("", s.udp_port))
        membership = struct.pack("4sl", socket.inet_aton(s.group), socket.INADDR_ANY)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        while True:
            data, (address, _) = sock.recvfrom(4096)
            try:
                hello = json.loads(data)
            except ValueError:
                continue
            if hello.get("node") and hello["node"] != s.node:
                self._learn(str(hello["node"]), address)

    def _learn(self, name: str, address: str) -> None:
        with self._lock:
            peer = self.peers.setdefault(name, Peer(name, address))
            peer.address = address
            peer.last_seen = time.monotonic()
            if peer.sock is not None:
                if alive(peer.sock):
                    return
                peer.sock.close()  # the peer closed it (restarted): connect anew
                peer.sock = None
        try:
            sock = socket.create_connection((address, TCP_PORT), timeout=2)
        except OSError:
            return  # not listening yet; the next announcement tries again
        with self._lock:
            peer.sock = sock

    # -- events --------------------------------------------------------------------------------

    def invalidate(self, cid: int) -> None:
        """Tell every known peer to drop its cached folders of context `cid`. A connection
        the peer has closed (it restarted) is replaced before sending: a send on it would
        succeed into the kernel's buffer and the event would be lost without an error."""
        line = (json.dumps({"type": "invalidate", "region": "folders", "cid": cid}) + "\n").encode()
        with self._lock:
            peers = list(self.peers.values())
        for peer in peers:
            sock = peer.sock if peer.sock is not None and alive(peer.sock) else None
            if sock is None:
                sock = self._reconnect(peer)
            if sock is None:
                continue
            try:
                sock.sendall(line)
                self.sent += 1
            except OSError:
                with self._lock:
                    peer.sock = None  # reconnected on the next event or announcement

    def _reconnect(self, peer: Peer) -> socket.socket | None:
        with self._lock:
            if peer.sock is not None:
                peer.sock.close()
                peer.sock = None
        try:
            sock = socket.create_connection((peer.address, TCP_PORT), timeout=2)
        except OSError:
            return None
        with self._lock:
            peer.sock = sock
        return sock

    def _accept(self) -> None:
        server = socket.create_server(("", TCP_PORT), reuse_port=False)
        while True:
            conn, _ = server.accept()
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rb") as lines:
            for raw in lines:
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                if event.get("type") == "invalidate":
                    self.received += 1
                    self.on_invalidate(int(event["cid"]))

    def status(self) -> dict[str, object]:
        with self._lock:
            peers = {
                p.name: {"address": p.address, "connected": p.sock is not None and alive(p.sock)}
                for p in self.peers.values()
            }
        return {
            "peers": peers,
            "events_sent": self.sent,
            "events_received": self.received,
            "discovery": "static"
            if self.settings.static_members
            else f"multicast {self.settings.group}:{self.settings.udp_port}",
        }


def alive(sock: socket.socket) -> bool:
    """A peer never writes on an event connection, so a readable one has been closed or
    reset by the peer (it stopped or restarted)."""
    try:
        # poll, not select: select refuses descriptors above FD_SETSIZE (1024), which a
        # long-lived process (the test session's) reaches
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if not poller.poll(0):
            return True
        return bool(sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except (OSError, ValueError):
        return False
