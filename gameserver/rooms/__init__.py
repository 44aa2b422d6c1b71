"""The room domain: a room and its match, seats, clocks, the lobby, recovery."""
