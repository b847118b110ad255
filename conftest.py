"""Root conftest: only what must live at the root. The lab's fixtures come from its pytest
plugin, registered through the `pytest11` entry point when the package is installed; a
plain checkout (not installed) loads the same plugin from here instead."""

from importlib.metadata import entry_points

if not any(ep.name == "ox-lab" for ep in entry_points(group="pytest11")):
    pytest_plugins = ["lab.pytest_plugin"]
