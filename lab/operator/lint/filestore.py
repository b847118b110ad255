"""Lint rules for the filestore (the NFS export): who may mount it, and whose files they are."""

from __future__ import annotations

from collections.abc import Iterator

from lab.operator import parsers
from lab.operator.lint.engine import ERROR, OX_UID, Finding, LintContext, register


def export_clients(context: LintContext) -> Iterator[Finding]:
    hosts = context.hosts()
    allowed = {"oxgw01", "oxgw02"}
    for f in context.files("filestore", "exports"):
        for export in parsers.exports(f.text):
            for client in export.clients:
                if hosts.get(client.host.lower()) not in allowed:
                    yield Finding(
                        "NF001",
                        ERROR,
                        f.path,
                        export.line,
                        f"{export.path} is exported to {client.host}",
                        "the guide exports the filestore to both groupware nodes only; "
                        "anyone else can read and change every context's files",
                        "list the groupware nodes by name (map them in [hosts])",
                    )


register("NF001", "an export open to more than the groupware nodes", export_clients)


def export_ids(context: LintContext) -> Iterator[Finding]:
    for f in context.files("filestore", "exports"):
        for export in parsers.exports(f.text):
            for client in export.clients:
                squash_all = client.chosen("all_squash", "no_all_squash", default=False)
                uid, gid = client.option("anonuid"), client.option("anongid")
                wrong = (squash_all and (uid, gid) != (OX_UID, OX_UID)) or client.chosen(
                    "ro", "rw", default=True
                )
                if wrong:
                    yield Finding(
                        "NF002",
                        ERROR,
                        f.path,
                        export.line,
                        f"{client.host}({','.join(client.options)}) does not let "
                        "open-xchange write its files",
                        "the guide: open-xchange (1001:1001) owns the export and must "
                        "read and write it from both nodes",
                        f"use rw and, if squashing, anonuid={OX_UID},anongid={OX_UID}",
                    )


register("NF002", "a uid/gid mapping that does not give open-xchange its files", export_ids)
