"""The chaos scenarios by the layout they run on: `galera`, `gtid`, `dblb` (the load
balancer options), `groupware` (Apache, the OX nodes, the filestore) and `hosts` (the
operator's machines over SSH); `registry` names every container scenario once."""
