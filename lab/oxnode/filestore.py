"""Infostore file bodies under the registered filestore URI (file:///var/opt/filestore),
written as the open-xchange user. A file appears under its final name only when it is
complete (written to a temporary name in the same directory, then renamed), so a failed
upload leaves no partial file behind."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


class Filestore:
    def __init__(self, uri: str, uid: int = 1001, gid: int = 1001) -> None:
        if not uri.startswith("file://"):
            raise ValueError(f"unsupported filestore URI {uri!r}")
        self.root = Path(uri.removeprefix("file://"))
        self.uid, self.gid = uid, gid

    @property
    def mode(self) -> str:
        """How this node reaches the filestore (reported by its status endpoint)."""
        with open("/proc/mounts", encoding="ascii", errors="replace") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) > 2 and Path(fields[1]) == self.root:
                    return f"{fields[2]} mount of {fields[0]}"
        return "local directory (no NFS mount)"

    def put(self, cid: int, data: bytes) -> str:
        """Store `data`; returns its location relative to the root."""
        name = uuid.uuid4().hex
        relative = f"{cid}_ctx_store/{name[:2]}/{name[2:4]}/{name}"
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{name}.part")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            self._own(tmp)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        return relative

    def get(self, relative: str) -> bytes:
        return (self.root / relative).read_bytes()

    def delete(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            os.chown(path, self.uid, self.gid)
