"""The master keyring: keys from the environment or a private key file, versions, retirement."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from orderdesk_mcp.adapters.keyring import Keyring, KeyringError


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def test_one_environment_key_is_version_one() -> None:
    keyring = Keyring.load(Path("/nonexistent"), {"ORDERDESK_MASTER_KEY": _b64(b"k" * 32)})
    assert (keyring.versions, keyring.current_version, keyring.file_backed) == ((1,), 1, False)
    box = keyring.aesgcm(1).encrypt(b"n" * 12, b"secret", b"ad")
    assert keyring.aesgcm(1).decrypt(b"n" * 12, box, b"ad") == b"secret"


def test_several_environment_keys_make_the_highest_version_current() -> None:
    value = f"2:{_b64(b'b' * 32)},1:{_b64(b'a' * 32)}"
    keyring = Keyring.load(Path("/nonexistent"), {"ORDERDESK_MASTER_KEY": value})
    assert (keyring.versions, keyring.current_version) == ((1, 2), 2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "not base64 at all!!",
            "ORDERDESK_MASTER_KEY is not valid base64 (expected 32 random bytes, base64-encoded)",
        ),
        (_b64(b"short-secret-16b"), "ORDERDESK_MASTER_KEY must decode to exactly 32 bytes (got 16)"),
        (
            f"x:{_b64(b'a' * 32)}",
            "ORDERDESK_MASTER_KEY has a key version that is not a positive whole number",
        ),
    ],
)
def test_a_bad_environment_key_names_the_variable_and_never_echoes_it(value: str, expected: str) -> None:
    with pytest.raises(KeyringError) as caught:
        Keyring.load(Path("/nonexistent"), {"ORDERDESK_MASTER_KEY": value})
    assert str(caught.value) == expected
    assert value not in str(caught.value)


def test_no_key_anywhere_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyringError) as caught:
        Keyring.load(tmp_path, {})
    assert str(caught.value) == (
        "no master key: set ORDERDESK_MASTER_KEY (32 random bytes, base64) or run "
        f"`orderdesk-mcp keys generate` to create {tmp_path / 'master.key'}"
    )


def test_generate_writes_a_private_key_file_that_loads_back(tmp_path: Path) -> None:
    made = Keyring.generate(tmp_path / "data")
    path = tmp_path / "data" / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert list(json.loads(path.read_text())) == ["1"]
    loaded = Keyring.load(tmp_path / "data", {})
    assert (loaded.versions, loaded.path) == ((1,), path)
    box = made.aesgcm(1).encrypt(b"n" * 12, b"secret", None)
    assert loaded.aesgcm(1).decrypt(b"n" * 12, box, None) == b"secret"


def test_generate_never_overwrites_an_existing_key_file(tmp_path: Path) -> None:
    Keyring.generate(tmp_path)
    before = (tmp_path / "master.key").read_bytes()
    with pytest.raises(KeyringError, match="already exists; use `orderdesk-mcp keys rotate`"):
        Keyring.generate(tmp_path)
    assert (tmp_path / "master.key").read_bytes() == before


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    Keyring.generate(tmp_path)
    path = tmp_path / "master.key"
    os.chmod(path, 0o644)
    with pytest.raises(KeyringError) as caught:
        Keyring.load(tmp_path, {})
    assert str(caught.value) == (
        f"{path} can be read by other users (mode 644); refusing to use it. Run: chmod 600 {path}"
    )


def test_the_environment_key_wins_over_the_file(tmp_path: Path) -> None:
    Keyring.generate(tmp_path)
    keyring = Keyring.load(tmp_path, {"ORDERDESK_MASTER_KEY": _b64(b"e" * 32)})
    assert keyring.path is None


def test_versions_are_added_and_retired_in_the_file(tmp_path: Path) -> None:
    keyring = Keyring.generate(tmp_path)
    assert keyring.add_version() == 2
    assert Keyring.load(tmp_path, {}).versions == (1, 2)
    keyring.retire(1)
    reloaded = Keyring.load(tmp_path, {})
    assert (reloaded.versions, reloaded.current_version) == ((2,), 2)
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    with pytest.raises(
        KeyringError, match=r"^master key version 1 is not available \(retired or never created\)$"
    ):
        reloaded.aesgcm(1)


def test_the_current_or_an_unknown_version_cannot_be_retired(tmp_path: Path) -> None:
    keyring = Keyring.generate(tmp_path)
    with pytest.raises(
        KeyringError, match=r"^master key version 1 is the current one and cannot be retired$"
    ):
        keyring.retire(1)
    with pytest.raises(KeyringError, match=r"^master key version 7 does not exist \(versions: \(1,\)\)$"):
        keyring.retire(7)


def test_repr_shows_versions_but_no_key_material() -> None:
    key = b"s" * 32
    keyring = Keyring({3: key})
    assert repr(keyring) == "Keyring(versions=(3,), path=None)"
    assert _b64(key) not in repr(keyring)
