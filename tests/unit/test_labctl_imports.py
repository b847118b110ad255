"""Compose's setup service runs `python -m lab.compose` in the labctl image, which has
Debian's python3-pymysql, -requests, -cryptography and the docker and testcontainers
packages, and nothing else of the control machine's virtualenv. A module it imports that
reaches for another package breaks every compose file (seen: zstandard, imported by the
image archive's code in images.py, failed the setup with ModuleNotFoundError)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what the labctl image has (lab/images/labctl/Dockerfile, images.labctl_image)
LABCTL_HAS = {
    "pymysql", "requests", "cryptography", "urllib3", "wrapt", "typing_extensions",
    "dotenv", "docker", "testcontainers", "idna", "certifi", "charset_normalizer",
    "_cffi_backend",  # python3-cffi-backend, which python3-cryptography depends on
}  # fmt: skip
# under mutation (tools/mutants.py) the lab's modules are mutmut's copies, whose
# trampolines import mutmut: the tool's import, not one the image must have
UNDER_MUTMUT = {"mutmut"} if "MUTANT_UNDER_TEST" in os.environ else set()


def test_compose_setup_imports_only_what_the_labctl_image_has() -> None:
    probe = (
        "import sys, importlib.abc\n"
        f"has = {sorted(LABCTL_HAS | UNDER_MUTMUT)!r}\n"
        "class Only(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        top = name.split('.')[0]\n"
        "        if top in sys.stdlib_module_names or top in has or top == 'lab':\n"
        "            return None\n"
        "        raise ModuleNotFoundError(f'No module named {top!r} in the labctl image')\n"
        "sys.meta_path.insert(0, Only())\n"
        "import lab.compose\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]
