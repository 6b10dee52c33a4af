"""`python -m policies_kb`: the knowledge base's command line (see policies_kb/cli/)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
