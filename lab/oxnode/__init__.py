"""oxnode: the OX-like groupware node (the lab's one stub), speaking real protocols.

This package runs inside the node's image and in the lab's own tests; it depends on the
standard library and PyMySQL only.
"""
