"""`python -m poc_runner` runs the `poc` command."""

from poc_runner.cli import main

main()
