"""Master keys by version, for encrypting stored OrderDesk API keys with AES-256-GCM.

Keys come from ``ORDERDESK_MASTER_KEY`` or from ``master.key`` in the data directory.

* ``ORDERDESK_MASTER_KEY`` holds one base64 key of 32 bytes (version 1), or several as
  ``"2:<base64>,1:<base64>"`` so a rotation can be done by hand: add the new version, run
  ``orderdesk-mcp keys rotate``, then drop the old one. It takes precedence over the file.
* ``master.key`` is JSON ``{"1": "<base64>", "2": "<base64>"}``, mode 0600, owned by the
  user. A file that group or others can read is refused rather than used.

The highest version is the current one: new rows are encrypted with it, older versions still
decrypt until they are retired. No key material ever appears in a message, repr or log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography loads only when a key is used (serving from env vars needs none)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["KEY_FILE_NAME", "MASTER_KEY_ENV", "Keyring", "KeyringError"]

MASTER_KEY_ENV = "ORDERDESK_MASTER_KEY"
KEY_FILE_NAME = "master.key"
_KEY_BYTES = 32


class KeyringError(ValueError):
    """The master key is missing, malformed, unsafe or retired; the message says which and how to fix it."""


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(
            f"{where} is not valid base64 (expected 32 random bytes, base64-encoded)"
        ) from None
    if len(key) != _KEY_BYTES:
        raise KeyringError(f"{where} must decode to exactly 32 bytes (got {len(key)})")
    return key


def _encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _parse_version(text: str, where: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise KeyringError(f"{where} has a key version that is not a positive whole number")
    return int(text)


def _parse_env(value: str) -> dict[int, bytes]:
    if ":" not in value:
        return {1: _decode_key(value, MASTER_KEY_ENV)}
    keys: dict[int, bytes] = {}
    for part in value.split(","):
        version_text, _, encoded = part.partition(":")
        version = _parse_version(version_text, MASTER_KEY_ENV)
        keys[version] = _decode_key(encoded, f"{MASTER_KEY_ENV} (version {version})")
    return keys


def _check_private(path: Path) -> None:
    info = path.stat()
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(
            f"{path} can be read by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"refusing to use it. Run: chmod 600 {path}"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise KeyringError(f"{path} is owned by another user; refusing to use it")


def _read_file(path: Path) -> dict[int, bytes]:
    _check_private(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise KeyringError(f"{path} is not a readable master key file (expected JSON)") from None
    if not isinstance(raw, dict) or not raw:
        raise KeyringError(f'{path} holds no keys (expected JSON like {{"1": "<base64>"}})')
    return {
        _parse_version(str(v), str(path)): _decode_key(str(k), f"{path} (version {v})")
        for v, k in raw.items()
    }


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, never readable by others, not even briefly."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Keyring:
    """Master keys by version; :meth:`aesgcm` hands out the cipher for one version.

    Args:
        keys: version -> 32-byte key.
        path: the key file these keys persist to (None for keys from the environment or tests).
    """

    def __init__(self, keys: Mapping[int, bytes], *, path: Path | None = None) -> None:
        if not keys:
            raise KeyringError("a keyring needs at least one master key")
        for version, key in keys.items():
            if version < 1 or len(key) != _KEY_BYTES:
                raise KeyringError(f"master key version {version} is not a 32-byte key")
        self._keys = dict(keys)
        self.path = path

    def __repr__(self) -> str:
        return f"Keyring(versions={self.versions}, path={self.path})"

    @classmethod
    def load(cls, directory: Path, env: Mapping[str, str] | None = None) -> Keyring:
        """Keys from ``ORDERDESK_MASTER_KEY`` in ``env`` (default ``os.environ``), else the key file.

        Raises:
            KeyringError: no key anywhere, a malformed value, or a key file others can read.
        """
        value = (os.environ if env is None else env).get(MASTER_KEY_ENV, "").strip()
        if value:
            return cls(_parse_env(value))
        path = directory / KEY_FILE_NAME
        if not path.exists():
            raise KeyringError(
                f"no master key: set {MASTER_KEY_ENV} (32 random bytes, base64) "
                f"or run `orderdesk-mcp keys generate` to create {path}"
            )
        return cls(_read_file(path), path=path)

    @classmethod
    def generate(cls, directory: Path) -> Keyring:
        """Create ``directory/master.key`` with a fresh version-1 key (mode 0600).

        Raises:
            KeyringError: when the file already exists (it is never overwritten).
        """
        path = directory / KEY_FILE_NAME
        if path.exists():
            raise KeyringError(f"{path} already exists; use `orderdesk-mcp keys rotate` to add a new key")
        keyring = cls({1: secrets.token_bytes(_KEY_BYTES)}, path=path)
        keyring.save()
        return keyring

    @staticmethod
    def new_key_text() -> str:
        """A fresh random key, base64-encoded, for ``ORDERDESK_MASTER_KEY``."""
        return _encode_key(secrets.token_bytes(_KEY_BYTES))

    def derived(self, label: bytes) -> bytes:
        """32 bytes for ``label``, one way (HMAC-SHA256) from the key of the lowest version: the same
        for every process holding these keys, however they were given (file or environment)."""
        return hmac.new(self._keys[min(self._keys)], label, hashlib.sha256).digest()

    @property
    def versions(self) -> tuple[int, ...]:
        return tuple(sorted(self._keys))

    @property
    def current_version(self) -> int:
        return max(self._keys)

    @property
    def file_backed(self) -> bool:
        return self.path is not None

    def aesgcm(self, version: int) -> AESGCM:
        """The cipher for ``version``.

        Raises:
            KeyringError: the version was retired or never existed.
        """
        key = self._keys.get(version)
        if key is None:
            raise KeyringError(f"master key version {version} is not available (retired or never created)")
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(key)

    def reload(self) -> bool:
        """Re-read the key file, for a process that outlives a ``keys rotate``; True when the keys changed.

        A server loads the keyring once; a rotation in another process then seals rows under a
        version it has not seen. Re-reading on such a miss costs one small file read and no restart.
        Keys from the environment cannot change under a running process, so nothing is re-read.

        Raises:
            KeyringError: the key file became unreadable, malformed or readable by others.
        """
        if self.path is None:
            return False
        keys = _read_file(self.path)
        if keys == self._keys:
            return False
        self._keys = keys  # one assignment: a thread using the old keys meanwhile sees a whole dict
        return True

    def add_version(self) -> int:
        """Add a fresh key as the new current version, saving the file if there is one."""
        version = self.current_version + 1
        self._keys[version] = secrets.token_bytes(_KEY_BYTES)
        self.save()
        return version

    def check_retirable(self, version: int) -> None:
        """Raises: KeyringError when ``version`` is current or unknown."""
        if version not in self._keys:
            raise KeyringError(f"master key version {version} does not exist (versions: {self.versions})")
        if version == self.current_version:
            raise KeyringError(f"master key version {version} is the current one and cannot be retired")

    def retire(self, version: int) -> None:
        """Forget ``version`` (rows still using it stop decrypting), saving the file if there is one.

        Raises:
            KeyringError: the version is current or unknown.
        """
        self.check_retirable(version)
        del self._keys[version]
        self.save()

    def save(self) -> None:
        """Persist to the key file (mode 0600); a no-op for keys that came from the environment."""
        if self.path is None:
            return
        doc = {str(v): _encode_key(k) for v, k in sorted(self._keys.items())}
        _write_private(self.path, json.dumps(doc, indent=2) + "\n")
