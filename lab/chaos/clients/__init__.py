"""The clients, Jepsen's second concern: what talks to the system under test during a
run and records every operation into the history. `workloads` (inserts, bank
transfers, list appends through OX's own JDBC pool or an aggressive client),
`groupware` (browsers through Apache), `connect_loop` (a stock client's connect
loop), `sysbench` (the stock benchmark beside them), `threads` (running them)."""
