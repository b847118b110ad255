"""Checkers over a recorded history (lab.history). Each returns a Verdict whose anomalies
name the operations that violate the property, so a failing chaos run explains itself."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Verdict:
    checker: str
    anomalies: dict[str, list[str]] = field(default_factory=dict)  # kind -> explanations
    stats: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, explanation: str) -> None:
        self.anomalies.setdefault(kind, []).append(explanation)

    def valid(self, forbidden: tuple[str, ...] | None = None) -> bool:
        """No anomaly at all, or none of the `forbidden` kinds."""
        kinds = set(self.anomalies)
        return not (kinds & set(forbidden)) if forbidden is not None else not kinds

    def summary(self, limit: int = 3) -> str:
        if not self.anomalies:
            return f"{self.checker}: valid {self.stats}"
        parts = [
            f"{kind} x{len(found)}: " + " | ".join(found[:limit])
            for kind, found in sorted(self.anomalies.items())
        ]
        return f"{self.checker}: " + "; ".join(parts)
