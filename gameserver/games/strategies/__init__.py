"""Strategy implementations, one module per game (plus the game-agnostic random player)."""
