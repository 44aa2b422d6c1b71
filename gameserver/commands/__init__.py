"""One module per ``gameserver`` subcommand: each has ``configure(parser)`` and ``run(args) -> int``."""
