"""`python -m connector` is the `doge` command."""

from connector.cli.entry import main

main()
