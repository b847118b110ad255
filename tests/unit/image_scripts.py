"""Load the health-check scripts that ship inside the db image, as the image runs them
(from their own folder, beside checkhttp.py), so their decisions are unit-testable."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import lab

IMAGE_DIR = Path(lab.__file__).parent / "images" / "db"


def load_image_script(name: str) -> ModuleType:
    """The script as a module named by its place in the package (lab.images.db.NAME), so
    that tools keyed by module name (mutmut's test selection) find it, and under its bare
    name too, as the image's other scripts import it."""
    if str(IMAGE_DIR) not in sys.path:
        sys.path.insert(0, str(IMAGE_DIR))
    qualified = f"lab.images.db.{name}"
    spec = importlib.util.spec_from_file_location(qualified, IMAGE_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
