"""A userspace NFSv4 client through libnfs (Debian's libnfs13, 4.0), for hosts whose
kernel has no NFS client. Every call's argtypes and restype are declared (a careless
declaration segfaults), writes go through nfs_pwrite in chunks of the server's write
size, and one lock serialises a context (libnfs contexts are not thread-safe)."""

from __future__ import annotations

import ctypes
import errno
import os
import threading
from ctypes import POINTER, c_char_p, c_int, c_uint64, c_void_p

O_RDONLY = os.O_RDONLY
WRITE_CHUNK = 3072
TIMEOUT_MS = 5000  # one NFS call's answer; a call begun before an outage fails after it
READ_CHUNK = 32768


class NfsError(OSError):
    pass


def _load() -> ctypes.CDLL:
    lib = ctypes.CDLL("libnfs.so.13")
    sig = {
        "nfs_init_context": ([], c_void_p),
        "nfs_destroy_context": ([c_void_p], None),
        "nfs_set_version": ([c_void_p, c_int], c_int),
        "nfs_set_uid": ([c_void_p, c_int], None),
        "nfs_set_gid": ([c_void_p, c_int], None),
        "nfs_set_timeout": ([c_void_p, c_int], None),
        "nfs_set_autoreconnect": ([c_void_p, c_int], None),
        "nfs_mount": ([c_void_p, c_char_p, c_char_p], c_int),
        "nfs_get_error": ([c_void_p], c_char_p),
        "nfs_create": ([c_void_p, c_char_p, c_int, c_int, POINTER(c_void_p)], c_int),
        "nfs_open": ([c_void_p, c_char_p, c_int, POINTER(c_void_p)], c_int),
        "nfs_close": ([c_void_p, c_void_p], c_int),
        "nfs_pwrite": ([c_void_p, c_void_p, c_uint64, c_uint64, c_char_p], c_int),
        "nfs_pread": ([c_void_p, c_void_p, c_uint64, c_uint64, c_void_p], c_int),
        "nfs_unlink": ([c_void_p, c_char_p], c_int),
        "nfs_rename": ([c_void_p, c_char_p, c_char_p], c_int),
        "nfs_mkdir": ([c_void_p, c_char_p], c_int),
        "nfs_get_writemax": ([c_void_p], c_uint64),
        "nfs_get_readmax": ([c_void_p], c_uint64),
    }
    for name, (args, res) in sig.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    return lib


class NfsClient:
    """One mounted NFSv4 export, e.g. NfsClient("filestore", "/filestore", uid=1001)."""

    def __init__(self, server: str, export: str, uid: int, gid: int, timeout_ms: int = TIMEOUT_MS):
        self.lib = _load()
        self.lock = threading.Lock()
        self.ctx = self.lib.nfs_init_context()
        if not self.ctx:
            raise NfsError(errno.ENOMEM, "nfs_init_context failed")
        self.lib.nfs_set_version(self.ctx, 4)
        self.lib.nfs_set_uid(self.ctx, uid)
        self.lib.nfs_set_gid(self.ctx, gid)
        self.lib.nfs_set_timeout(self.ctx, timeout_ms)
        # libnfs reconnects a lost session forever by default, so a call begun before
        # the server went away hangs through the whole outage; OX's filestore fails the
        # request instead (FLS). The caller mounts afresh on the next request.
        self.lib.nfs_set_autoreconnect(self.ctx, 0)
        self._check(
            self.lib.nfs_mount(self.ctx, server.encode(), export.encode()),
            f"mount {server}:{export}",
        )
        # libnfs 4.0 encodes an NFSv4 WRITE's data into a 4 KiB buffer: larger writes
        # fail with "ZDR error: Failed to encode COMPOUND4args" (measured: 3800 bytes
        # pass, 4000 fail), whatever the server's maximum
        self.writemax = min(int(self.lib.nfs_get_writemax(self.ctx)) or WRITE_CHUNK, WRITE_CHUNK)
        self.readmax = min(int(self.lib.nfs_get_readmax(self.ctx)) or READ_CHUNK, READ_CHUNK)

    def _check(self, rc: int, what: str) -> int:
        if rc < 0:
            message = (self.lib.nfs_get_error(self.ctx) or b"").decode(errors="replace")
            raise NfsError(-rc, f"NFS {what}: {message or os.strerror(-rc)}")
        return rc

    def makedirs(self, path: str) -> None:
        with self.lock:
            self._require_open()
            current = ""
            for part in path.strip("/").split("/"):
                current += f"/{part}"
                rc = self.lib.nfs_mkdir(self.ctx, current.encode())
                if rc < 0 and -rc != errno.EEXIST:
                    self._check(rc, f"mkdir {current}")

    def write_file(self, path: str, data: bytes, mode: int = 0o640) -> None:
        with self.lock:
            self._require_open()
            fh = c_void_p()
            # libnfs 4.0 over NFSv4: nfs_creat, O_WRONLY and O_TRUNC can leave the file open
            # without write access (writes fail NFS4ERR_OPENMODE); O_RDWR|O_CREAT|O_EXCL
            # works, and callers write new, uniquely named files only
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL
            self._check(
                self.lib.nfs_create(self.ctx, path.encode(), flags, mode, ctypes.byref(fh)),
                f"create {path}",
            )
            try:
                offset = 0
                while offset < len(data):
                    chunk = data[offset : offset + self.writemax]
                    offset += self._check(
                        self.lib.nfs_pwrite(self.ctx, fh, offset, len(chunk), chunk),
                        f"write {path}",
                    )
            finally:
                self.lib.nfs_close(self.ctx, fh)

    def read_file(self, path: str) -> bytes:
        with self.lock:
            self._require_open()
            fh = c_void_p()
            self._check(
                self.lib.nfs_open(self.ctx, path.encode(), O_RDONLY, ctypes.byref(fh)),
                f"open {path}",
            )
            try:
                parts: list[bytes] = []
                offset = 0
                buf = ctypes.create_string_buffer(self.readmax)
                while True:
                    n = self._check(
                        self.lib.nfs_pread(self.ctx, fh, offset, self.readmax, buf), f"read {path}"
                    )
                    if n == 0:
                        return b"".join(parts)
                    parts.append(buf.raw[:n])
                    offset += n
            finally:
                self.lib.nfs_close(self.ctx, fh)

    def rename(self, old: str, new: str) -> None:
        with self.lock:
            self._require_open()
            self._check(self.lib.nfs_rename(self.ctx, old.encode(), new.encode()), f"rename {old}")

    def _require_open(self) -> None:
        if not self.ctx:  # closed after a failure: never hand libnfs a NULL context
            raise NfsError(errno.ENOTCONN, "NFS connection closed after an error")

    def close(self) -> None:
        """Drop the connection (after a failure: the next client mounts afresh)."""
        with self.lock:
            if self.ctx:
                self.lib.nfs_destroy_context(self.ctx)
                self.ctx = None

    def unlink(self, path: str, missing_ok: bool = True) -> None:
        with self.lock:
            self._require_open()
            rc = self.lib.nfs_unlink(self.ctx, path.encode())
            if rc < 0 and not (missing_ok and -rc == errno.ENOENT):
                self._check(rc, f"unlink {path}")
