"""Pure game rules: no I/O, no trio, no msgpack. One module per game."""
