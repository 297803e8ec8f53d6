"""PostgreSQL refuses to run as root: choose an unprivileged account and let it reach its files."""

from __future__ import annotations

import logging
import os
import pwd
import stat
from dataclasses import dataclass
from pathlib import Path

from shared.devstack.errors import DevStackError

log = logging.getLogger(__name__)
FALLBACK_ACCOUNT = "nobody"


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int
    name: str


def postgres_account(pgdata: Path) -> RunAs | None:
    """None when not root (PostgreSQL runs as us). As root: the owner of an existing data
    directory, so restarts keep working, else `nobody`."""
    if os.geteuid() != 0:
        return None
    if pgdata.exists() and (owner := pgdata.stat()).st_uid != 0:
        return RunAs(owner.st_uid, owner.st_gid, _name(owner.st_uid))
    try:
        entry = pwd.getpwnam(FALLBACK_ACCOUNT)
    except KeyError:
        raise DevStackError(f"PostgreSQL refuses to run as root and there is no '{FALLBACK_ACCOUNT}' "
                            "account to run it as; run make as a normal user or set DATABASE_URL") from None
    return RunAs(entry.pw_uid, entry.pw_gid, FALLBACK_ACCOUNT)


def _name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _search_bit(st: os.stat_result, account: RunAs) -> int:
    # Only one permission class applies: owner, else group, else other.
    if st.st_uid == account.uid:
        return stat.S_IXUSR
    if st.st_gid == account.gid:
        return stat.S_IXGRP
    return stat.S_IXOTH


def grant_traversal(path: Path, account: RunAs) -> list[Path]:
    """Add the search (x) bit, never read, to each directory on the way to path that the
    account cannot enter, e.g. a repository under /root. Returns the directories changed."""
    changed = []
    for directory in reversed([path, *path.parents]):
        st = directory.stat()
        bit = _search_bit(st, account)
        if not st.st_mode & bit:
            directory.chmod(stat.S_IMODE(st.st_mode) | bit)
            changed.append(directory)
    if changed:
        log.warning("PostgreSQL runs as %s (it refuses root); allowed it to enter %s",
                    account.name, ", ".join(map(str, changed)))
    return changed
