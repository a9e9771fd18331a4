"""``orderdesk-mcp keys generate|rotate|retire|list``: the master keys behind the stored API keys.

Rotation adds a new master key (saved first), then re-encrypts every stored API key under it
in one transaction; older versions keep decrypting until retired, and a version is only
retired once no stored key uses it. With ``ORDERDESK_MASTER_KEY`` the operator edits the
variable instead (``"2:<new>,1:<old>"``) and ``keys rotate`` only re-encrypts.

Every command that changes the keys holds the data directory's key lock from loading the
keyring to its last write (:func:`~orderdesk_mcp.entrypoints.cli_admin_support.key_lock`), so
two rotations at once each add a version instead of one overwriting the other's key file.
"""

from __future__ import annotations

import argparse

from orderdesk_mcp.adapters.keyring import Keyring, KeyringError
from orderdesk_mcp.entrypoints.cli_admin_support import key_lock, open_store, say, warn
from orderdesk_mcp.entrypoints.paths import default_data_dir

__all__ = ["keys_generate", "keys_list", "keys_retire", "keys_rotate"]


def _api_keys(count: int) -> str:
    return f"{count} stored API key" + ("" if count == 1 else "s")


def keys_generate(args: argparse.Namespace) -> int:
    """Create ``master.key`` (or, with ``--print``, print a key for ``ORDERDESK_MASTER_KEY``)."""
    if args.print:
        say(Keyring.new_key_text())
        warn("Set this as ORDERDESK_MASTER_KEY; it was not saved anywhere.")
        return 0
    directory = default_data_dir()
    with key_lock(directory):
        keyring = Keyring.generate(directory)
    say(
        f"Created master key version {keyring.current_version} in {keyring.path} (readable only by you). "
        "Back it up: without it the stored API keys cannot be decrypted."
    )
    return 0


def keys_rotate(args: argparse.Namespace) -> int:
    """Add a master key version (key file only), then re-encrypt every stored key under the newest."""
    directory = default_data_dir()
    with key_lock(directory):
        keyring = Keyring.load(directory)
        if keyring.file_backed:
            keyring.add_version()  # saved before re-encrypting, so no row ever needs a key not on disk
        elif len(keyring.versions) == 1:
            raise KeyringError(
                'the master key comes from ORDERDESK_MASTER_KEY: set it to "2:<new>,1:<old>" (make a key '
                "with `orderdesk-mcp keys generate --print`), run `orderdesk-mcp keys rotate` again, "
                "then drop the old key"
            )
        with open_store(keyring) as store:
            count = store.rotate()
    older = [str(v) for v in keyring.versions if v != keyring.current_version]
    say(f"Re-encrypted {_api_keys(count)} under master key version {keyring.current_version}.")
    if older and keyring.file_backed:
        say(f"Older versions still decrypt until retired: orderdesk-mcp keys retire {' '.join(older)}")
    return 0


def keys_retire(args: argparse.Namespace) -> int:
    """Forget old versions of the key file, refusing any that a stored key still uses."""
    directory = default_data_dir()
    with key_lock(directory):
        keyring = Keyring.load(directory)
        if not keyring.file_backed:
            for version in args.version:  # the current or a missing version says so, as for the file
                keyring.check_retirable(version)
            versions = ", ".join(str(v) for v in args.version)
            raise KeyringError(
                f"the master keys come from ORDERDESK_MASTER_KEY; remove version {versions} from it instead"
            )
        for version in args.version:
            keyring.check_retirable(version)
            with open_store(keyring) as store:
                in_use = store.key_versions_in_use().get(version, 0)
            if in_use:
                raise KeyringError(
                    f"master key version {version} still encrypts {_api_keys(in_use)}; "
                    "run `orderdesk-mcp keys rotate` first"
                )
            keyring.retire(version)
            say(f"Retired master key version {version}.")
    return 0


def keys_list(args: argparse.Namespace) -> int:
    """Show each master key version and how many stored keys use it (no key material)."""
    keyring = Keyring.load(default_data_dir())
    with open_store(keyring) as store:
        in_use = store.key_versions_in_use()
    source = str(keyring.path) if keyring.path else "ORDERDESK_MASTER_KEY"
    for version in keyring.versions:
        current = " (current)" if version == keyring.current_version else ""
        say(f"version {version}{current}: {_api_keys(in_use.get(version, 0))}  [{source}]")
    for version in sorted(set(in_use) - set(keyring.versions)):
        say(f"version {version} (MISSING): {_api_keys(in_use[version])} cannot be decrypted")
    return 0
