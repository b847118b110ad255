"""The chaos scenarios by the layout they run on: `galera`, `gtid`, `dblb` (the load
balancer options), `groupware` (Apache, the OX nodes, the filestore) and `hosts` (the
operator's machines over SSH); `registry` names every container scenario once.

Each scenario is a bounded run of a workload under a fault schedule with the checkers
that judge it (tests/chaos and `lab chaos run NAME --seed N`)."""
