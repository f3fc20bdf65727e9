"""Bearer tokens with a role, configured by the operator.

The tokens file (``RESURCOR_TOKENS_FILE``) is YAML: a list of ``{name, role, sha256}``,
one per desk, team or person. Only the SHA-256 of a token is stored; ``resurcor tokens
add`` creates a token, prints it once and appends its digest, ``tokens list`` shows the
names and roles, ``tokens revoke`` removes one. A running service reads the file again
within a second of a change, so a revoked token stops working without a restart. A presented token is hashed
and compared with every stored digest in constant time, and no token is ever logged.

Without a tokens file the service runs as a single desk: every request acts as the local
desk with every role. That mode is refused on an address other than the loopback, so a
service reachable from the network always asks for tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from geodata.errors import DataError, ResurcorError

logger = logging.getLogger(__name__)


class Role(StrEnum):
    REGULATOR = "regulator"
    SMUR = "smur"
    PLANNER = "planner"
    ADMIN = "admin"


class Permission(StrEnum):
    """What a request may do; each endpoint asks for one permission."""

    READ_RECOMMENDATIONS = "read_recommendations"
    READ_RESOURCES = "read_resources"
    SET_SMUR_STATE = "set_smur_state"
    SET_RESOURCE_STATE = "set_resource_state"
    CLAIM_UNITS = "claim_units"
    PLAN = "plan"
    READ_REGISTRY = "read_registry"
    WRITE_REGISTRY = "write_registry"


# A SMUR team reports its own state but does not change helicopters or cath labs;
# planners and the registry read and simulate, they never change the live state.
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.REGULATOR: frozenset(
        {
            Permission.READ_RECOMMENDATIONS,
            Permission.READ_RESOURCES,
            Permission.SET_SMUR_STATE,
            Permission.SET_RESOURCE_STATE,
            Permission.CLAIM_UNITS,
            Permission.WRITE_REGISTRY,
        }
    ),
    Role.SMUR: frozenset({Permission.READ_RECOMMENDATIONS, Permission.READ_RESOURCES, Permission.SET_SMUR_STATE, Permission.WRITE_REGISTRY}),
    Role.PLANNER: frozenset({Permission.READ_RECOMMENDATIONS, Permission.READ_RESOURCES, Permission.PLAN, Permission.READ_REGISTRY}),
    Role.ADMIN: frozenset(Permission),
}

LOCAL_DESK = "local-desk"


class AuthError(ResurcorError):
    """A request has no valid token (status 401) or its role lacks the permission (403)."""

    def __init__(self, code: str, message: str, *, status: int, **params):
        super().__init__(code, message, field="Authorization", **params)
        self.status = status


@dataclass(frozen=True)
class Principal:
    """Who sent a request: a token's name and role, or the local desk without tokens."""

    name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


@dataclass(frozen=True)
class _Entry:
    name: str
    role: Role
    sha256: bytes


class TokenRegistry:
    """The operator's tokens; empty means the single-desk mode, unless ``closed``, which rejects every token."""

    def __init__(self, entries: list[_Entry] | None = None, *, closed: bool = False):
        self._entries = entries or []
        self._closed = closed

    @property
    def open(self) -> bool:
        """True without any token configured: every request acts as the local desk."""
        return not self._entries and not self._closed

    def principal(self, authorization: str | None) -> Principal:
        """Return who sent a request from its Authorization header; raise AuthError (401) otherwise."""
        if self.open:
            return Principal(LOCAL_DESK, Role.ADMIN)
        if not authorization:
            raise AuthError("token_missing", "the request has no Authorization header", status=401)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("token_malformed", "the Authorization header is not 'Bearer <token>'", status=401)
        presented = digest(token.strip())

        # Every entry is compared, so the time taken does not tell which one matched.
        found = None
        for entry in self._entries:
            if hmac.compare_digest(presented, entry.sha256):
                found = entry
        if found is None:
            raise AuthError("token_unknown", "the token is not in the tokens file", status=401)
        return Principal(found.name, found.role)

    def require(self, authorization: str | None, permission: Permission) -> Principal:
        """Return the request's principal if its role has ``permission``; raise AuthError otherwise."""
        principal = self.principal(authorization)
        if not principal.can(permission):
            raise AuthError(
                "role_forbidden",
                f"the role {principal.role} of {principal.name!r} lacks the permission {permission}",
                status=403,
                role=principal.role.value,
                permission=permission.value,
            )
        return principal


def load_tokens(path: Path | None) -> TokenRegistry:
    """Read the tokens file; None or a missing setting gives the single-desk registry."""
    if path is None:
        return TokenRegistry()
    if not path.is_file():
        raise DataError("tokens_file_missing", f"tokens file {path} not found", field="RESURCOR_TOKENS_FILE", path=str(path))
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise DataError("tokens_file_invalid", f"{path}: expected a list of {{name, role, sha256}}", path=str(path), detail="not a list")
    entries = []
    for index, item in enumerate(raw, start=1):
        try:
            entries.append(_Entry(name=str(item["name"]), role=Role(item["role"]), sha256=bytes.fromhex(item["sha256"])))
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(
                "tokens_file_invalid",
                f"{path}: entry {index} is not {{name, role, sha256}} with a role among {[r.value for r in Role]}: {err}",
                path=str(path),
                detail=f"entry {index}: {err}",
            ) from err
    if not entries:
        raise DataError("tokens_file_invalid", f"{path}: the file lists no token", path=str(path), detail="no token")
    return TokenRegistry(entries)


class WatchedTokens:
    """The tokens file of a running service, read again when it changes.

    The file's modification time, size and inode are checked at most every
    ``check_interval_s``, so ``resurcor tokens revoke`` takes effect within that delay.
    A file that becomes missing or invalid rejects every token until it is fixed: the
    service never falls back to the single-desk mode, nor keeps a revoked token.
    """

    def __init__(self, path: Path, check_interval_s: float = 1.0):
        self.path = path
        self.check_interval_s = check_interval_s
        self._lock = threading.Lock()
        self._signature = self._file_signature()
        self._registry = load_tokens(path)
        self._checked_s = time.monotonic()

    @property
    def open(self) -> bool:
        return False

    def principal(self, authorization: str | None) -> Principal:
        return self._current().principal(authorization)

    def require(self, authorization: str | None, permission: Permission) -> Principal:
        return self._current().require(authorization, permission)

    def _file_signature(self) -> tuple[int, int, int] | None:
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return (status.st_mtime_ns, status.st_size, status.st_ino)

    def _current(self) -> TokenRegistry:
        now_s = time.monotonic()
        with self._lock:
            if now_s - self._checked_s < self.check_interval_s:
                return self._registry
            self._checked_s = now_s
            signature = self._file_signature()
            if signature == self._signature:
                return self._registry
            self._signature = signature
            try:
                self._registry = load_tokens(self.path)
                logger.info("tokens file %s changed: %d tokens loaded", self.path, len(self._registry._entries))
            except (DataError, OSError, yaml.YAMLError) as err:
                self._registry = TokenRegistry(closed=True)
                logger.error("tokens file %s is now unreadable or invalid (%s): every token is rejected until it is fixed", self.path, err)
            return self._registry


def open_tokens(path: Path | None) -> TokenRegistry | WatchedTokens:
    """Return the single-desk registry without a tokens file, else the file watched for changes."""
    if path is None:
        return TokenRegistry()
    return WatchedTokens(path)


def _read_entries(path: Path) -> list[dict]:
    """Return the raw entries of the tokens file; an absent file has none."""
    if not path.is_file():
        return []
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise DataError("tokens_file_invalid", f"{path}: expected a list of {{name, role, sha256}}", path=str(path), detail="not a list")
    return raw


def _write_entries(path: Path, entries: list[dict]) -> None:
    """Replace the tokens file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)


def list_tokens(path: Path) -> list[tuple[str, Role]]:
    """Return the name and role of every token of ``path``, never their digests."""
    return [(entry.name, entry.role) for entry in load_tokens(path)._entries]


def revoke_token(path: Path, name: str) -> int:
    """Remove the token named ``name`` from ``path``; return how many tokens remain.

    Raises DataError naming the existing tokens when none is named ``name``.
    """
    entries = _read_entries(path)
    kept = [entry for entry in entries if not (isinstance(entry, dict) and entry.get("name") == name)]
    if len(kept) == len(entries):
        names = ", ".join(str(entry.get("name")) for entry in entries if isinstance(entry, dict)) or "-"
        raise DataError("token_not_found", f"{path} has no token named {name!r}; tokens: {names}", field="name", name=name, path=str(path), names=names)
    _write_entries(path, kept)
    logger.info("token %r revoked in %s; %d remain", name, path, len(kept))
    return len(kept)


def new_token() -> str:
    """Return a random token (32 bytes, URL-safe base64) that does not start with "-".

    A token starting with "-" reads as an option on a command line (``--token -x...``),
    so such draws are discarded; the token keeps more than 250 bits of entropy.
    """
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith("-"):
            return token


def add_token(path: Path, name: str, role: Role) -> str:
    """Create a token for ``name`` with ``role``, append its digest to ``path`` and return it.

    The token itself is returned once and never written anywhere.
    """
    entries = _read_entries(path)
    if any(entry.get("name") == name for entry in entries):
        raise DataError("token_name_taken", f"{path} already has a token named {name!r}", field="name", name=name, path=str(path))
    token = new_token()
    entries.append({"name": name, "role": role.value, "sha256": digest(token).hex()})
    _write_entries(path, entries)
    logger.info("token %r with role %s added to %s", name, role.value, path)
    return token


def is_loopback(host: str) -> bool:
    """True when ``host`` only listens on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = [
    "AuthError",
    "Permission",
    "Principal",
    "Role",
    "TokenRegistry",
    "WatchedTokens",
    "add_token",
    "is_loopback",
    "list_tokens",
    "load_tokens",
    "open_tokens",
    "revoke_token",
]
