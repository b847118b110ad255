"""`lab verify`: the guide's non-destructive checks on a running cluster, the operator's
staging machines over SSH (an Ansible inventory) or a lab's containers, one table per
section with pass/fail and the evidence. target.py says what is verified, checks/ holds
one module per guide section, run.py runs them, report.py prints the tables."""
