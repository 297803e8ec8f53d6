"""Users' whole life cycle: list, show, update, disable, enable, set-password, delete.

Disabling or deleting a user ends their login sessions, revokes their refresh tokens and refuses
their live access tokens, and tells every client that got tokens in those sessions (Back-Channel
Logout; ``shared.management.cutoffs``, even when Redis was down); login then fails with the message of a
wrong password (services/authorize/endpoints/login.py checks a decoy hash for them).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from shared.config import Settings
from shared.management.backends import Backends, record_change
from shared.management.cutoffs import carry_out
from shared.management.errors import Conflict, InvalidInput, NotFound
from shared.models import AuditEvent, User
from shared.oauth.params import has_control_character
from shared.stores.pg_refresh_tokens import PgRefreshTokens
from shared.stores.pg_users import DuplicateUsername, PgUsers

if TYPE_CHECKING:
    from shared.crypto.passwords import Passwords

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work one request can ask for


@dataclass(frozen=True, slots=True)
class UserRecord:
    user: User

    def to_json(self) -> dict[str, Any]:
        u = self.user
        return {"id": str(u.id), "username": u.username, "email": u.email, "email_verified": u.email_verified,
                "name": u.name, "disabled": u.disabled}


def check_username(username: str) -> str:
    # The sign-in form's parser refuses control characters (shared.oauth.params): a username or
    # password holding one could never sign in.
    username = username.strip()
    if not username or len(username) > 100 or any(c.isspace() for c in username) or has_control_character(username):
        raise InvalidInput("username must be 1 to 100 characters without white space or control characters")
    return username


def check_email(email: str | None) -> str | None:
    if email is not None and email != "" and ("@" not in email or len(email) > 254 or any(c.isspace() for c in email)):
        raise InvalidInput(f"{email!r} is not an email address")
    return email or None


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"password must be at least {MIN_PASSWORD_LENGTH} characters "
                           f"(and at most {MAX_PASSWORD_LENGTH})")
    if has_control_character(password):
        raise InvalidInput("password must not contain control characters (a tab, say): "
                           "the sign-in form cannot send them")
    return password


def passwords_for(s: Settings) -> Passwords:
    # Imported here: every service starts through the CLI, and only authorize hashes passwords.
    from shared.crypto.passwords import Passwords

    return Passwords(None, time_cost=s.argon2_time_cost, memory_kib=s.argon2_memory_kib,
                     parallelism=s.argon2_parallelism)


async def _find(db: asyncpg.Pool | asyncpg.Connection, username: str, *, for_update: bool = False) -> User:
    lock = " FOR UPDATE" if for_update else ""
    row = await db.fetchrow(
        "SELECT id, username, password_hash, email, email_verified, name, disabled FROM users "
        f"WHERE lower(username) = lower($1){lock}", username)
    if row is None:
        raise NotFound(f"no user {username!r}")
    return User(**row)


async def _audit(conn: asyncpg.Connection, event: str, user: User, actor: str) -> None:
    await record_change(conn, AuditEvent(event, user_id=str(user.id), details={"actor": actor}))


async def create(backends: Backends, username: str, password: str, *, email: str | None = None,
                 name: str | None = None, actor: str = "cli") -> UserRecord:
    username, email = check_username(username), check_email(email)
    password_hash = await passwords_for(backends.settings).hash(check_password(password))
    async with backends.transaction() as conn:
        try:
            user = await PgUsers(conn).create(username, password_hash, email=email, name=name)
        except DuplicateUsername:
            raise Conflict(f"username {username!r} already exists") from None
        await _audit(conn, "user_created", user, actor)
    return UserRecord(user)


async def list_users(backends: Backends, *, after: str | None = None, limit: int = 1000) -> list[UserRecord]:
    rows = await backends.db.fetch(
        """SELECT id, username, password_hash, email, email_verified, name, disabled FROM users
           WHERE $1::text IS NULL OR lower(username) > lower($1) ORDER BY lower(username) LIMIT $2""", after, limit)
    return [UserRecord(User(**r)) for r in rows]


async def show(backends: Backends, username: str) -> UserRecord:
    return UserRecord(await _find(backends.db, username))


async def update(backends: Backends, username: str, *, email: str | None = None, name: str | None = None,
                 actor: str = "cli") -> UserRecord:
    """Changes email and/or name ("" clears); a changed email is no longer verified."""
    if email is None and name is None:
        raise InvalidInput("nothing to change: give an email or a name")
    set_email, set_name = email is not None, name is not None
    new_email = check_email(email) if set_email else None  # "" -> None: cleared
    if name is not None and len(name) > 200:
        raise InvalidInput("name must be at most 200 characters")
    new_name = (name or "").strip() or None
    async with backends.transaction() as conn:
        user = await _find(conn, username, for_update=True)
        row = await conn.fetchrow(
            """UPDATE users SET email = CASE WHEN $2 THEN $3 ELSE email END,
                                email_verified = CASE WHEN $2 AND $3 IS DISTINCT FROM email THEN false
                                                      ELSE email_verified END,
                                name = CASE WHEN $4 THEN $5 ELSE name END
               WHERE id = $1 RETURNING id, username, password_hash, email, email_verified, name, disabled""",
            user.id, set_email, new_email, set_name, new_name)
        await _audit(conn, "user_updated", user, actor)
    return UserRecord(User(**row))


async def set_disabled(backends: Backends, username: str, disabled: bool, *, actor: str = "cli") -> UserRecord:
    async with backends.transaction() as conn:
        user = await _find(conn, username, for_update=True)
        await conn.execute("UPDATE users SET disabled = $2 WHERE id = $1", user.id, disabled)
        revoked = await PgRefreshTokens(conn).revoke_owned(user_id=user.id) if disabled else []
        if disabled:
            cutoff = await backends.record_cutoff(conn, user_id=user.id, reason="user_disabled")
        else:
            cutoff = None
            await backends.clamp_cutoff(conn, user_id=user.id)
        await _audit(conn, "user_disabled" if disabled else "user_enabled", user, actor)
    if cutoff is not None:
        await carry_out(backends, revoked, cutoff)
    else:
        await backends.reinstate_access(user_id=user.id)
    return UserRecord(dataclasses.replace(user, disabled=disabled))


async def delete(backends: Backends, username: str, *, actor: str = "cli") -> UserRecord:
    """Deletes the user with their consents and refresh tokens; sessions and access tokens end."""
    async with backends.transaction() as conn:
        user = await _find(conn, username, for_update=True)
        revoked = await PgRefreshTokens(conn).revoke_owned(user_id=user.id)
        cutoff = await backends.record_cutoff(conn, user_id=user.id, reason="user_deleted")
        await conn.execute("DELETE FROM users WHERE id = $1", user.id)
        await _audit(conn, "user_deleted", user, actor)
    await carry_out(backends, revoked, cutoff)
    return UserRecord(user)


async def set_password(backends: Backends, username: str, password: str, *, actor: str = "cli") -> UserRecord:
    password_hash = await passwords_for(backends.settings).hash(check_password(password))
    async with backends.transaction() as conn:
        user = await _find(conn, username, for_update=True)
        await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user.id, password_hash)
        await _audit(conn, "user_password_set", user, actor)
    return UserRecord(user)


async def replace_password_hash(backends: Backends, user_id: UUID, password_hash: str, *, actor: str) -> None:
    """``set_password`` for a user already found, with a hash made by the caller's own hasher (the
    authorize service hashes in its argon2 threads, off the event loop)."""
    async with backends.transaction() as conn:
        user = await conn.fetchrow(
            "UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id, username, password_hash, email, "
            "email_verified, name, disabled", user_id, password_hash)
        if user is None:
            raise NotFound(f"no user {user_id}")
        await _audit(conn, "user_password_set", User(**user), actor)

