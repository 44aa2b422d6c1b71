"""Ratings: the Glicko-2 system (pure functions) and how match results feed it."""
