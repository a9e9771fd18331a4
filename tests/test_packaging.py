"""The built wheel, installed into a fresh virtualenv: one import package, the console script, and a
server that answers ``tools/list`` over stdio.

Offline and quick: the wheel is built by pip (the same build ``make install`` does), installed with
``--no-deps --no-index``, and the fresh environment borrows this environment's dependencies through a
``.pth`` line, so nothing is downloaded. The checkout is never on the fresh interpreter's path.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib.metadata import version
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.server_process import clean_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
VERSION = version("orderdesk-mcp")


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python*/site-packages")
    return found


async def test_the_wheel_installs_one_package_and_a_console_script_that_serves_over_stdio(
    tmp_path: Path,
) -> None:
    dist, fresh, source = tmp_path / "dist", tmp_path / "fresh", tmp_path / "source"
    # A copy of what the build reads, so setuptools' build/ never lands in (or leaks from) the checkout.
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source, cwd=tmp_path)
    (wheel,) = dist.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
    assert top_level == {"orderdesk_mcp", f"orderdesk_mcp-{VERSION}.dist-info"}

    _run(sys.executable, "-m", "venv", "--without-pip", fresh, cwd=tmp_path)
    site = _site_packages(fresh)
    python = fresh / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index",
         wheel, cwd=tmp_path)  # fmt: skip
    assert sorted(p.name for p in site.iterdir()) == ["orderdesk_mcp", f"orderdesk_mcp-{VERSION}.dist-info"]
    (site / "_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    where = _run(python, "-c", "import orderdesk_mcp; print(orderdesk_mcp.__file__)", cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(site)  # the installed copy, not the checkout
    script = fresh / "bin" / "orderdesk-mcp"
    assert _run(script, "--version", cwd=tmp_path) == f"orderdesk-mcp {VERSION}\n"

    params = StdioServerParameters(command=str(script), args=["serve"], env=clean_env(tmp_path), cwd=tmp_path)
    with anyio.fail_after(30):
        async with Client(params) as client:
            tools = await client.list_tools()
    assert len(tools.tools) >= 5
    assert {"orders_get", "orders_list"} <= {t.name for t in tools.tools}  # the names on this branch
