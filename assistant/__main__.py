"""`python -m assistant`: the command line (cli.py)."""

from .cli import main

main()
