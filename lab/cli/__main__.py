"""`python -m lab.cli ARGS`: the same as `lab ARGS`."""

import sys

from lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
