"""Run the groupware node: AJP13 on 8009 and HTTP on 8080 in front of OxApp, configured
by the files oxinstaller wrote, clustered with its peers unless OX_CLUSTER=off."""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

from lab.oxnode.api import OxApp
from lab.oxnode.cluster import Cluster, ClusterSettings
from lab.oxnode.config import ConfigDb, read_properties
from lab.oxnode.listeners import AjpServer, HttpServer, serve_in_thread
from lab.oxnode.store import Databases

LOG_FILE = Path(os.environ.get("OX_LOG", "/var/log/open-xchange/open-xchange.log.0"))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    node = os.environ.get("OX_NODE_NAME", socket.gethostname())
    route = read_properties("ajp.properties").get("AJP_JVM_ROUTE", node)
    db = Databases(ConfigDb.from_properties(read_properties("configdb.properties")))
    app = OxApp(node, route, db, LOG_FILE)
    if os.environ.get("OX_CLUSTER", "on") == "on":
        members = tuple(m for m in os.environ.get("OX_CLUSTER_MEMBERS", "").split(",") if m)
        cluster = Cluster(ClusterSettings(node, static_members=members), app.folders.invalidate)
        app.on_invalidate = cluster.invalidate
        app.cluster_status = cluster.status
        cluster.start()
    serve_in_thread(AjpServer(("0.0.0.0", 8009), app))
    serve_in_thread(HttpServer(("0.0.0.0", 8080), app))
    logging.getLogger("oxnode").info("%s (route %s) serving AJP on 8009, HTTP on 8080", node, route)
    threading.Event().wait()


if __name__ == "__main__":
    main()
