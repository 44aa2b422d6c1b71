"""The Prometheus text rendering."""

from __future__ import annotations

from gameserver.sessions.metrics import Metrics


def test_render_counters_gauges_and_labels() -> None:
    metrics = Metrics()
    metrics.gauge("gameserver_rooms", "Open rooms.", lambda: 3)
    metrics.messages_in += 5
    metrics.matches_started["connect4"] += 2
    metrics.error("room_full")
    metrics.error('we"ird\\')
    text = metrics.render()
    assert text.endswith("\n")
    assert "# TYPE gameserver_rooms gauge\ngameserver_rooms 3\n" in text
    assert "gameserver_messages_in_total 5\n" in text
    assert 'gameserver_matches_started_total{game="connect4"} 2\n' in text
    assert 'gameserver_errors_total{code="room_full"} 1\n' in text
    assert 'gameserver_errors_total{code="we\\"ird\\\\"} 1\n' in text
