"""The bank workload's invariant: transfers move money between accounts, so every read
of all balances must add up to the starting total, and no balance may go negative
(transfers check the balance inside their transaction).

Forbids every anomaly it finds: `wrong-total` (money lost or created), `wrong-accounts`
(an account vanished or appeared), `negative-balance`. Transfers take their locks with
SELECT ... FOR UPDATE, which even Galera's certification keeps consistent at the
flavours' default isolation, so none of these is an allowed finding."""

from __future__ import annotations

from lab.chaos.checkers import Verdict
from lab.chaos.history import History


def check_bank(history: History, accounts: int, total: int) -> Verdict:
    verdict = Verdict("bank")
    reads = [op for op in history.ops if op.f == "read" and op.outcome == "ok"]
    for op in reads:
        balances = {int(k): int(v) for k, v in op.value.items()}
        if len(balances) != accounts:
            verdict.add("wrong-accounts", f"{op.describe()} saw {len(balances)} accounts")
        if sum(balances.values()) != total:
            verdict.add(
                "wrong-total", f"{op.describe()} totals {sum(balances.values())}, not {total}"
            )
        negative = {k: v for k, v in balances.items() if v < 0}
        if negative:
            verdict.add("negative-balance", f"{op.describe()} has {negative}")
    transfers = [op for op in history.ops if op.f == "transfer"]
    verdict.stats = {
        "reads": len(reads),
        "transfers_ok": sum(op.outcome == "ok" for op in transfers),
        "transfers_unknown": sum(op.outcome == "info" for op in transfers),
    }
    return verdict
