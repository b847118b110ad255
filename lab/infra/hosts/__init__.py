"""The operator's machines, reached the way Jepsen and Test Kitchen reach them: an Ansible
inventory names them by guide role (inventory.py), testinfra's backends run commands
on them over SSH or in a lab container (remote.py), a credentials file holds what the
client checks log in with (credentials.py), and stand-in hosts let the lab test all of
this against its own containers (standin.py)."""
