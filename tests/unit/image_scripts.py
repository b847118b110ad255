"""Load the health-check scripts that ship inside the db image, as the image runs them
(from their own folder, beside checkhttp.py), so their decisions are unit-testable."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import lab

IMAGE_DIR = Path(lab.__file__).parent / "images" / "db"


def load_image_script(name: str) -> ModuleType:
    if str(IMAGE_DIR) not in sys.path:
        sys.path.insert(0, str(IMAGE_DIR))
    spec = importlib.util.spec_from_file_location(name, IMAGE_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
