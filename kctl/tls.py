"""The TLS context for an https API server, from kubeconfig certificates.

Kept apart from the HTTP layer so that plain-http use never imports ssl.
"""

from __future__ import annotations

import os
import tempfile

from kctl.config import Connection


def context_for(conn: Connection):
    import ssl

    ctx = ssl.create_default_context()
    if conn.insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif conn.ca_data:
        ctx.load_verify_locations(cadata=conn.ca_data.decode("ascii"))
    elif conn.ca_file:
        ctx.load_verify_locations(cafile=conn.ca_file)
    cert = _as_file(conn.cert_file, conn.cert_data)
    key = _as_file(conn.key_file, conn.key_data)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def _as_file(path: str | None, data: bytes | None) -> str | None:
    """ssl loads client certificates only from files: write inline data to one."""
    if path or not data:
        return path
    fd, name = tempfile.mkstemp(prefix="kctl-", suffix=".pem")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    # The key must outlive the handshake only; unlinking at exit keeps no
    # secret on disk.
    import atexit

    atexit.register(os.unlink, name)
    return name
