"""Password hashing with argon2id (argon2-cffi), with cheap parameters only when tests ask for them."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Shortest password ``agents add`` and the admin page accept.
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (64 MiB, t=3)
# Hashing a dummy keeps "unknown email" as slow as "wrong password" (no account probing by timing).
_DUMMY_HASH: str | None = None


def use_fast_hashing_for_tests() -> None:
    """Tiny argon2 parameters so test suites stay fast; never called by the app."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = None


def check_password_policy(password: str) -> None:
    """ValueError when ``password`` is too weak to protect customer conversations."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if password.strip() != password:
        raise ValueError("The password must not start or end with spaces.")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or a corrupt hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def burn_time(password: str) -> None:
    """Spend the time a real verification takes, for unknown accounts."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password-0000")
    verify_password(_DUMMY_HASH, password)
