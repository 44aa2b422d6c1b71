"""The match log: format, recorder, loader and deterministic re-simulation."""
