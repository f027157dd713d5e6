"""`python -m connector` is the `doge` command."""

from connector.cli.app import main

main()
