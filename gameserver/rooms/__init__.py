"""Authoritative rooms, lobby, matchmaking, clocks and sessions."""
