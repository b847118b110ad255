"""`lab check`: judge a recorded history (.jsonl) again with the checkers. Exit 1 means a
forbidden anomaly and nothing else; 2: the file is not a history the checks can read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lab.chaos.checkers import Verdict
from lab.chaos.checkers.registry import CHECKERS, Check
from lab.chaos.history import History, HistoryFormatError
from lab.infra.errors import LabError

HELP = "judge a recorded history (.jsonl) with the checkers"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("history", help="a chaos run's history file (lab-reports/chaos-*.jsonl)")
    parser.add_argument(
        "--checker",
        choices=list(CHECKERS),
        metavar="NAME",
        help="only this checker: " + ", ".join(CHECKERS),
    )
    parser.add_argument(
        "--limit", type=int, default=5, help="offending operations shown per anomaly"
    )


def run(args: argparse.Namespace) -> int:
    """Judge a recorded history again. Exit 1 means a forbidden anomaly and nothing else;
    2: the file is not a history the checks can read, or the checks cannot be chosen."""
    from lab.chaos.checkers.registry import checks_of

    try:
        history = History.load(Path(args.history))
        checks = checks_of(history, args.checker)
        verdicts = [(check, _judged(check, history, args.history)) for check in checks]
    except LabError as exc:
        print(f"lab: error: {exc}", file=sys.stderr)
        return 2
    scenario = history.meta.get("scenario", "(no meta line)")
    print(
        f"{args.history}: {len(history.ops)} operations, {len(history.faults)} faults, "
        f"scenario {scenario}"
    )
    failed = False
    for check, verdict in verdicts:
        violated = check.violated(verdict)
        failed |= violated
        state = "FORBIDDEN" if violated else ("findings" if verdict.anomalies else "valid")
        forbidden = (
            "every anomaly" if check.forbidden is None else ", ".join(check.forbidden) or "nothing"
        )
        print(f"{check.checker}: {state} {verdict.stats} (forbids: {forbidden})")
        for kind, found in sorted(verdict.anomalies.items()):
            print(f"  {kind} x{len(found)}")
            for text in found[: args.limit]:
                print(f"    {text}")
            if len(found) > args.limit:
                print(f"    ... {len(found) - args.limit} more (--limit)")
    print("verdict: " + ("FAIL" if failed else "PASS"))
    return 1 if failed else 0


def _judged(check: Check, history: History, path: str) -> Verdict:
    """A checker on a history whose operations it cannot read (a value of another
    workload's shape) is the file's problem, said in one line, not a traceback."""

    try:
        return check.judge(history)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise HistoryFormatError(
            f"{path}: checker {check.checker} cannot read this history's operations: "
            f"{type(exc).__name__}: {exc}"
        ) from None
