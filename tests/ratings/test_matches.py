"""Which logged matches count for ratings, their places, and the rating of a match."""

from __future__ import annotations

import pytest

from gameserver.glicko2 import Rating
from gameserver.ratings.matches import rate, rated_result, rating_pool
from gameserver.replays.records import Ended, Header, Joined, Occupant, OccupantKind


def _header(*kinds: str | None, rated: bool = True, game: str = "connect4") -> Header:
    seats = tuple(
        Occupant(name=f"p{i}", player_id=f"p{i}", account_id=None if kind is None else f"p{i}",
             account_kind=kind)
        for i, kind in enumerate(kinds)
    )
    return Header(match_id="r-1", room_id="r", game=game, seed=1, seats=seats,
                  server_version="t", started_at=0, rated=rated)


WIN = Ended(at=10, version=7, winners=(0,), reason="four in a row")
TAKEOVER = Joined(at=5, seat=1, occupant=Occupant(name="Computer", kind=OccupantKind.BOT, strategy="best"))


def test_a_rated_match_of_accounts_with_a_result_counts() -> None:
    result = rated_result(_header("human", "human"), [WIN])
    assert result is not None
    assert result.accounts == ("p0", "p1") and result.places == (0, 1)
    assert result.pool == "connect4" and result.ended_at == 10


@pytest.mark.parametrize(
    ("header", "records"),
    [
        (_header("human", "human", rated=False), [WIN]),  # a casual room
        (_header("human", None), [WIN]),  # an anonymous seat
        (_header("human", "human"), []),  # not finished
        (_header("human", "human"), [Ended(at=3, version=2, reason="no players left", aborted=True)]),
        (_header("human", "bot"), [TAKEOVER, WIN]),  # a computer took a seat over
    ],
)
def test_matches_that_do_not_count(header: Header, records: list[object]) -> None:
    assert rated_result(header, records) is None  # type: ignore[arg-type]


def test_a_takeover_between_bot_accounts_stays_rated() -> None:
    assert rated_result(_header("bot", "bot"), [TAKEOVER, WIN]) is not None


def test_multi_player_places_and_pools() -> None:
    header = _header("human", "bot", "human", game="liarsdice")
    result = rated_result(header, [Ended(at=1, version=9, winners=(2,))])
    assert result is not None and result.places == (1, 1, 0) and result.pool == "liarsdice-3p"
    assert rating_pool("liarsdice", 2) == "liarsdice"
    draw = rated_result(header, [Ended(at=1, version=9, draw=True)])
    assert draw is not None and draw.places == (0, 0, 0)
    scored = rated_result(header, [Ended(at=1, version=9, winners=(1,), scores=(3, 7, 5))])
    assert scored is not None and scored.places == (2, 0, 1)


def test_rating_a_match_uses_every_seats_rating_from_before() -> None:
    result = rated_result(_header("human", "bot", "human", game="liarsdice"),
                          [Ended(at=1, version=9, winners=(2,))])
    assert result is not None
    record = rate(result, {"p0": Rating(1700.0, 80.0, 0.06)})
    winner = record.participants[2]
    assert winner.score == 1.0 and winner.after.rating > 1500.0
    assert record.participants[0].before == Rating(1700.0, 80.0, 0.06)
    assert record.participants[1].score == 0.25  # a tie with p0, a loss to p2
