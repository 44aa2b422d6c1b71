"""The game wire protocol: message classes, the msgpack codec and validation."""
