"""`python -m connector` is the `doge` command."""

from connector.cli.main import main

main()
