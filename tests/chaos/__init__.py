"""Chaos tests run scenarios through the registry (lab/chaos/scenarios/registry.py: SCENARIOS), the
same way `lab chaos run NAME` does; a unit test checks that every registered scenario
has a test here."""

from __future__ import annotations

from pathlib import Path

from lab.chaos.report.publish import publish
from lab.chaos.runner import ChaosRun
from lab.chaos.scenarios.registry import run_registered
from lab.roles.system import Lab


def run_scenario(name: str, lab: Lab, seed: int, report_dir: Path) -> ChaosRun:
    """Run the registered scenario `name` on `lab` and publish its report."""
    run = run_registered(name, lab, seed)
    publish(run, report_dir)
    return run
