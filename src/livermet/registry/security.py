"""Passwords (argon2id) and API tokens (random secrets stored as SHA-256 digests).

Passwords are hashed with argon2id, the memory-hard function of RFC 9106, through argon2-cffi's
defaults. API tokens are 256-bit random secrets: they cannot be guessed, so a fast hash is enough
to store them (a slow hash protects low-entropy secrets only) and lets a token be looked up by its
digest. The registry never stores a token itself; it is shown once, when created.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from livermet.errors import InputError

TOKEN_PREFIX = "lmt_"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the argon2id hash of ``password`` (salted; the parameters are encoded in it).

    Raises
    ------
    InputError
        when the password is shorter than :data:`MIN_PASSWORD_LENGTH` characters.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", "password")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (constant time within argon2)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current defaults."""
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    """Return a new API token: the prefix and 32 random bytes, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
