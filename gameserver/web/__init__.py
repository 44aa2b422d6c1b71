"""HTTP beside the game WebSocket: routes, the static browser client, the replay API and
the origin policy. Nothing here touches a room; the replay API reads match logs."""
