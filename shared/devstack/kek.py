"""The dev key-encryption key: generated once and kept, so restarts can decrypt signing keys."""

from __future__ import annotations

import base64
import os
import secrets
import stat
from pathlib import Path

from shared.devstack.errors import DevStackError


def load_or_create_kek(path: Path) -> str:
    """32 random bytes, urlsafe base64, in a 0600 file created on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w") as out:
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
        out.write(key + "\n")
    return key


def _read(path: Path) -> str:
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)  # tighten a copy made with a loose umask; it guards signing keys
    key = path.read_text().strip()
    try:
        valid = len(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))) == 32
    except ValueError:
        valid = False
    if not valid:
        raise DevStackError(f"{path} does not hold a 32-byte base64url key; delete it together "
                            "with the dev database (the signing keys it encrypted are lost)")
    return key
