"""`python -m bot` runs the same command line as `supportbot`."""

from bot.cli import main

main()
