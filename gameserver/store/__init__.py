"""Where durable player data lives, behind the small ``PlayerStore`` interface."""
