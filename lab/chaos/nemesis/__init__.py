"""The nemesis, Jepsen's third concern: the faults (`faults` in lab containers, `hosts`
on SSH hosts with their journal, the iptables rules of both in `firewall`), the
schedules that inject them while a workload runs (`schedule`), and the healing of what
a dead run left behind (`leftovers`). Every fault heals in its own finally block."""
