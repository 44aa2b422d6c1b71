"""The per-connection layer: hello and tokens, players, rate limits, outboxes, and the
dispatch of each request to the lobby or a room. It sits above ``rooms`` and talks to a
room only through the room's commands."""
