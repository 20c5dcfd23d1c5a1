"""Staff accounts for the dashboard. Passwords are kept only as Argon2id hashes (argon2-cffi's defaults,
which follow RFC 9106's recommendations)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, select

from visafaq.db.engine import transaction
from visafaq.triage.schema import StaffUserRow

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,119}$")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()
# Checked when the user does not exist, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class StaffUserError(ValueError):
    """A user name or password that cannot be used; the message says why."""


def check_new_credentials(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise StaffUserError(
            "a user name is 1-120 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffUserError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")


def add_user(engine: Engine, username: str, password: str, *, replace: bool = False) -> None:
    """Create a staff user, or with `replace`, set an existing user's password."""
    check_new_credentials(username, password)
    password_hash = _hasher.hash(password)
    with transaction(engine) as session:
        row = session.execute(select(StaffUserRow).where(StaffUserRow.username == username)).scalar()
        if row is not None and not replace:
            raise StaffUserError(f"there is already a staff user called {username!r}")
        if row is None:
            session.add(StaffUserRow(username=username, password_hash=password_hash, created_at=datetime.now(UTC)))
        else:
            row.password_hash = password_hash


def user_exists(engine: Engine, username: str) -> bool:
    with transaction(engine) as session:
        return session.execute(select(StaffUserRow.id).where(StaffUserRow.username == username)).first() is not None


def any_user(engine: Engine) -> bool:
    with transaction(engine) as session:
        return session.execute(select(StaffUserRow.id).limit(1)).first() is not None


def authenticate(engine: Engine, username: str, password: str) -> bool:
    """True when the password is this user's. Records the login; upgrades an outdated hash."""
    with transaction(engine) as session:
        row = session.execute(select(StaffUserRow).where(StaffUserRow.username == username)).scalar()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return False
        if row is None:
            return False
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        row.last_login_at = datetime.now(UTC)
        return True


def ensure_initial_user(engine: Engine, username: str | None, password: str | None) -> bool:
    """The first staff user from STAFF_USER / STAFF_PASSWORD at start; an existing user is left as is."""
    if not username or not password or user_exists(engine, username):
        return False
    add_user(engine, username, password)
    return True
