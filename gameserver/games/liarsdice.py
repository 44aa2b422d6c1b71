"""Liar's dice: 2-6 players bid on the dice under everyone's cups; the last with dice wins.

Rules (options in brackets):

- Every player starts with ``dice`` dice [1..10, default 5]. At the start of every round
  all remaining dice are rolled from the match rng; each player sees only their own.
- Seat 0 opens the first round. Players act in seat order, skipping eliminated seats.
- A bid ``[quantity, face]`` claims that at least ``quantity`` dice on the table show
  ``face``. Each bid must be higher than the current one: a greater quantity (any face),
  or the same quantity of a greater face. A quantity above the number of dice in play is
  illegal.
- [``ones_wild``, default true] 1s count as every face, so a bid on 5s counts 5s and 1s,
  and bids must name faces 2..6. When false, faces 1..6 may be bid and count only
  themselves.
- Instead of bidding (once there is a bid) a player may call ``"liar"``: if the bid is
  met, the caller loses a die, otherwise the bidder does.
- [``spot_on``, default true] or call ``"spot_on"``: the caller claims the bid is
  exactly right. If it is, every other remaining player loses a die; if not, the caller
  loses a die.
- After a call all dice are revealed (``last_round`` in every view), dice are removed,
  and a new round is rolled. It is opened by the player who lost a die, or by the next
  remaining player after them if they are out; after a correct spot-on call, by the caller.
- A player with no dice is eliminated and never acts again. The last player with dice wins.

Moves: ``{"bid": [quantity, face]}``, ``{"call": "liar"}``, ``{"call": "spot_on"}``.

``legal_moves`` lists every higher bid whose quantity does not exceed the dice in play
(at most 6 x 60 of them), followed by the allowed calls once there is a bid.

Timeout rule: the timed-out seat calls liar if there is a bid, otherwise it opens with
the lowest bid (one die of the lowest biddable face); a match that call ends, ends by the
dice (``Termination.NORMAL``), not as a timeout loss. A room may instead forfeit the
seat with ``forfeit`` (as ``resign``; a win it leaves says "forfeit", ``FORFEIT``).

Resigning eliminates the seat at once (its dice leave the table). If one player remains
they win; otherwise the round's bidding starts over with the dice already rolled (the
rules get no rng at a resignation), opened by the player who was to act, or the next
remaining player if the resigning seat was to act.

Views: see ``LiarsDice.view``. A seat sees its own dice and everybody's dice COUNT; a
spectator sees no dice at all. Dice are shown to everyone only in ``last_round``, after
the call that ended that round. A seat's own ``dice`` always agree with its count: after
the final call the winner still sees the hand it holds (the one just revealed).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from gameserver.games.base import (
    Game,
    IllegalMove,
    MalformedMove,
    Move,
    NotYourTurn,
    Outcome,
    Termination,
    bool_option,
    check_players,
    expect_fields,
    int_option,
    is_int,
    merge_options,
)

FACES = 6
CALLS = ("liar", "spot_on")
DEFAULTS: dict[str, Any] = {"dice": 5, "ones_wild": True, "spot_on": True}
OPTION_CHECKS = {"dice": int_option(1, 10), "ones_wild": bool_option, "spot_on": bool_option}

Bid = tuple[int, int]  # (quantity, face)
BidRecord = tuple[int, int, int]  # (seat, quantity, face)
V = TypeVar("V")


@attrs.frozen
class RoundResult:
    """A finished round, revealed to everyone."""

    round: int
    """The round's number (1 = first)."""
    dice: tuple[tuple[int, ...], ...]
    """Every seat's dice in that round (empty for seats already out)."""
    bids: tuple[BidRecord, ...]
    """The round's bids in order."""
    caller: int
    """The seat that called."""
    call: str
    """"liar" or "spot_on"."""
    bidder: int
    """The seat whose bid was called."""
    bid: Bid
    """The bid that was called."""
    count: int
    """How many dice actually matched the bid's face (wild 1s included)."""
    losers: tuple[int, ...]
    """The seats that lost a die."""


@attrs.frozen
class LiarsDiceState:
    """One moment of a liar's dice match."""

    ones_wild: bool
    spot_on: bool
    counts: tuple[int, ...]
    """Dice each seat holds (0 = eliminated)."""
    dice: tuple[tuple[int, ...], ...]
    """This round's roll per seat, sorted; hidden from everyone but its owner."""
    round: int
    """This round's number, from 1."""
    turn: int
    """The seat to act (meaningless once ``outcome`` is set)."""
    bids: tuple[BidRecord, ...] = ()
    """This round's bids in order; the last one is the current bid."""
    last_round: RoundResult | None = None
    """The previous round, revealed; None before the first call."""
    eliminated: tuple[int, ...] = ()
    """Seats that are out, in the order they went out."""
    outcome: Outcome | None = None
    """Set when the match is over."""

    @property
    def bid(self) -> Bid | None:
        """The current bid, or None if nobody has bid this round."""
        return (self.bids[-1][1], self.bids[-1][2]) if self.bids else None


def roll(counts: tuple[int, ...], rng: random.Random) -> tuple[tuple[int, ...], ...]:
    """Roll ``counts[seat]`` dice for each seat in seat order; each roll is sorted."""
    return tuple(tuple(sorted(rng.randint(1, FACES) for _ in range(n))) for n in counts)


def matching(dice: tuple[tuple[int, ...], ...], face: int, ones_wild: bool) -> int:
    """Return how many dice count for ``face`` (1s too when wild and face is not 1)."""
    wild = ones_wild and face != 1
    return sum(1 for hand in dice for d in hand if d == face or (wild and d == 1))


def next_seat(counts: tuple[int, ...], seat: int) -> int:
    """Return the first seat after ``seat`` (cyclically) that still has dice."""
    players = len(counts)
    for step in range(1, players + 1):
        candidate = (seat + step) % players
        if counts[candidate] > 0:
            return candidate
    raise AssertionError("no player has dice")


def lowest_face(ones_wild: bool) -> int:
    """Return the lowest face that may be bid."""
    return 2 if ones_wild else 1


_PublicParts = tuple[
    list[int], "list[int] | None", list[list[int]], "dict[str, Any] | None", list[int]
]
# The state whose public view parts were made last, and those parts.
_last_public: tuple[LiarsDiceState | None, _PublicParts | None] = (None, None)


def _public_parts(state: LiarsDiceState) -> _PublicParts:
    """``counts``, ``bid``, ``bids``, ``last_round`` and ``eliminated`` of ``state``'s view.

    Every seat's view of one state gets the same objects (never change a view in
    place): a room asks for all of them in a row, and diffs the parts they share once.
    """
    global _last_public
    last, parts = _last_public
    if last is not state or parts is None:
        parts = (
            list(state.counts),
            None if state.bid is None else list(state.bid),
            [list(record) for record in state.bids],
            None if state.last_round is None else round_data(state.last_round),
            list(state.eliminated),
        )
        _last_public = (state, parts)
    return parts


class LiarsDice(Game[LiarsDiceState]):
    """The rules of liar's dice (see the module docstring)."""

    name = "liarsdice"
    title = "Liar's Dice"
    min_players = 2
    max_players = 6

    def default_options(self) -> dict[str, Any]:
        """``{"dice": 5, "ones_wild": True, "spot_on": True}``."""
        return dict(DEFAULTS)

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Return the options over the defaults; raise InvalidOptions on a bad one."""
        return merge_options(DEFAULTS, OPTION_CHECKS, options)

    def setup(
        self, players: int, rng: random.Random, options: Mapping[str, Any]
    ) -> LiarsDiceState:
        """Roll the first round; seat 0 opens."""
        check_players(self, players)
        merged = self.validate_options(options)
        counts = (merged["dice"],) * players
        return LiarsDiceState(
            ones_wild=merged["ones_wild"],
            spot_on=merged["spot_on"],
            counts=counts,
            dice=roll(counts, rng),
            round=1,
            turn=0,
        )

    def to_act(self, state: LiarsDiceState) -> frozenset[int]:
        """Return the seat to act, or nothing once the match is over."""
        return frozenset() if state.outcome is not None else frozenset({state.turn})

    def legal_moves(self, state: LiarsDiceState, seat: int) -> list[Move]:
        """Return every higher bid up to the dice in play, then the allowed calls."""
        if seat not in self.to_act(state):
            return []
        total = sum(state.counts)
        low = lowest_face(state.ones_wild)
        current = state.bid or (0, 0)
        moves: list[Move] = [
            {"bid": [quantity, face]}
            for quantity in range(max(1, current[0]), total + 1)
            for face in range(low, FACES + 1)
            if (quantity, face) > current
        ]
        if state.bids:
            moves.append({"call": "liar"})
            if state.spot_on:
                moves.append({"call": "spot_on"})
        return moves

    def apply(
        self, state: LiarsDiceState, seat: int, move: Any, rng: random.Random
    ) -> LiarsDiceState:
        """Return the state after ``seat`` bids or calls."""
        expect_fields(move, ("bid", "call"))
        if "bid" in move:
            bid = parse_bid(move["bid"])
            self._check_turn(state, seat)
            return self._bid(state, seat, bid)
        call = move["call"]
        if call not in CALLS:
            raise MalformedMove("'call' must be \"liar\" or \"spot_on\"")
        self._check_turn(state, seat)
        return self._call(state, seat, call, rng)

    def outcome(self, state: LiarsDiceState) -> Outcome | None:
        """Return the result once one player is left with dice."""
        return state.outcome

    def view(self, state: LiarsDiceState, seat: int | None) -> dict[str, Any]:
        """Return what ``seat`` may see (None: a spectator)::

            {"you": seat | None, "players": n,
             "dice": [own dice, sorted] | None,   # None for spectators; [] when out
                                                  # (len == counts[you]: see held_dice)
             "counts": [dice per seat], "total_dice": sum of counts,
             "turn": seat | None, "round": r,
             "bid": [quantity, face] | None, "bidder": seat | None,
             "bids": [[seat, quantity, face], ...],          # this round, in order
             "last_round": None | {"round", "dice": [[...] per seat], "bids",
                                   "caller", "call", "bidder", "bid", "count", "losers"},
             "eliminated": [seats, in the order they went out],
             "ones_wild": bool, "spot_on": bool}
        """
        counts, bid, bids, last_round, eliminated = _public_parts(state)
        return {
            "you": seat,
            "players": len(state.counts),
            "dice": None if seat is None else list(held_dice(state, seat)),
            "counts": counts,
            "total_dice": sum(state.counts),
            "turn": None if state.outcome is not None else state.turn,
            "round": state.round,
            "bid": bid,
            "bidder": state.bids[-1][0] if state.bids else None,
            "bids": bids,
            "last_round": last_round,
            "eliminated": eliminated,
            "ones_wild": state.ones_wild,
            "spot_on": state.spot_on,
        }

    def on_timeout(
        self, state: LiarsDiceState, seat: int, rng: random.Random
    ) -> LiarsDiceState:
        """Call liar if there is a bid, else open with the lowest bid."""
        self._check_turn(state, seat)
        if state.bids:
            return self._call(state, seat, "liar", rng)
        return self._bid(state, seat, (1, lowest_face(state.ones_wild)))

    def resign(self, state: LiarsDiceState, seat: int) -> LiarsDiceState:
        """Eliminate ``seat`` now (see the module docstring for how the round goes on)."""
        return self._eliminate(state, seat, "resigned", Termination.RESIGNATION)

    def forfeit(self, state: LiarsDiceState, seat: int) -> LiarsDiceState:
        """Eliminate ``seat`` as in ``resign``; a win it leaves says "forfeit"."""
        return self._eliminate(state, seat, "forfeit", Termination.FORFEIT)

    def _eliminate(
        self, state: LiarsDiceState, seat: int, reason: str, termination: Termination
    ) -> LiarsDiceState:
        """Take ``seat``'s dice off the table; the last player left wins for ``reason``."""
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if not 0 <= seat < len(state.counts) or state.counts[seat] == 0:
            raise IllegalMove("that seat is not in the game")
        counts = replace(state.counts, seat, 0)
        dice = replace(state.dice, seat, ())
        eliminated = state.eliminated + (seat,)
        alive = [s for s, n in enumerate(counts) if n > 0]
        if len(alive) == 1:
            return attrs.evolve(
                state,
                counts=counts,
                dice=dice,
                eliminated=eliminated,
                outcome=Outcome(
                    (alive[0],), draw=False, reason=reason, termination=termination
                ),
            )
        turn = next_seat(counts, seat) if state.turn == seat else state.turn
        return attrs.evolve(
            state, counts=counts, dice=dice, eliminated=eliminated, turn=turn, bids=()
        )

    def snapshot(self, state: LiarsDiceState) -> dict[str, Any]:
        """Return the full state, every seat's dice included."""
        return {
            "ones_wild": state.ones_wild,
            "spot_on": state.spot_on,
            "counts": list(state.counts),
            "dice": [list(hand) for hand in state.dice],
            "round": state.round,
            "turn": state.turn,
            "bids": [list(record) for record in state.bids],
            "last_round": None if state.last_round is None else round_data(state.last_round),
            "eliminated": list(state.eliminated),
            "outcome": None if state.outcome is None else state.outcome.hashed_data(),
        }

    def _check_turn(self, state: LiarsDiceState, seat: int) -> None:
        if state.outcome is not None:
            raise IllegalMove("the game is over")
        if seat != state.turn:
            raise NotYourTurn("it is not your turn")

    def _bid(self, state: LiarsDiceState, seat: int, bid: Bid) -> LiarsDiceState:
        quantity, face = bid
        if state.ones_wild and face == 1:
            raise IllegalMove("1s are wild: bid on a face from 2 to 6")
        total = sum(state.counts)
        if quantity > total:
            raise IllegalMove(f"only {total} dice are in play")
        current = state.bid
        if current is not None and bid <= current:
            raise IllegalMove(
                f"a bid must beat {current[0]} x {current[1]}: "
                "more dice, or as many of a higher face"
            )
        return attrs.evolve(
            state, bids=state.bids + ((seat, quantity, face),), turn=next_seat(state.counts, seat)
        )

    def _call(
        self, state: LiarsDiceState, seat: int, call: str, rng: random.Random
    ) -> LiarsDiceState:
        if not state.bids:
            raise IllegalMove("there is no bid to call yet")
        if call == "spot_on" and not state.spot_on:
            raise IllegalMove("spot on calls are off in this match")
        bidder, quantity, face = state.bids[-1]
        count = matching(state.dice, face, state.ones_wild)
        starter = seat
        if call == "liar":
            losers: tuple[int, ...] = (seat,) if count >= quantity else (bidder,)
            starter = losers[0]
        elif count == quantity:
            losers = tuple(s for s, n in enumerate(state.counts) if n > 0 and s != seat)
        else:
            losers = (seat,)
        counts = tuple(n - 1 if s in losers else n for s, n in enumerate(state.counts))
        eliminated = state.eliminated + tuple(
            s for s in losers if counts[s] == 0
        )
        result = RoundResult(
            round=state.round,
            dice=state.dice,
            bids=state.bids,
            caller=seat,
            call=call,
            bidder=bidder,
            bid=(quantity, face),
            count=count,
            losers=losers,
        )
        alive = [s for s, n in enumerate(counts) if n > 0]
        if len(alive) == 1:
            return attrs.evolve(
                state,
                counts=counts,
                dice=tuple(() for _ in counts),
                bids=(),
                last_round=result,
                eliminated=eliminated,
                outcome=Outcome(
                    (alive[0],),
                    draw=False,
                    reason="last player with dice",
                    termination=Termination.NORMAL,
                ),
            )
        if counts[starter] == 0:
            starter = next_seat(counts, starter)
        return attrs.evolve(
            state,
            counts=counts,
            dice=roll(counts, rng),
            round=state.round + 1,
            turn=starter,
            bids=(),
            last_round=result,
            eliminated=eliminated,
        )


def held_dice(state: LiarsDiceState, seat: int) -> tuple[int, ...]:
    """The dice under ``seat``'s cup: as many as ``state.counts[seat]``.

    A match that ends on a call rolls no new round, and its state keeps no hands (state
    hashes of recorded matches cover that state, so it stays as it is). The winner still
    holds the hand just revealed in ``last_round``: a winner never loses a die in the
    final round, so that hand is whole.
    """
    hand = state.dice[seat]
    last = state.last_round
    if state.outcome is not None and not hand and state.counts[seat] and last is not None:
        return last.dice[seat]
    return hand


def parse_bid(raw: Any) -> Bid:
    """Return ``raw`` as (quantity, face); raise MalformedMove unless it is [int >= 1, 1..6]."""
    if not isinstance(raw, (list, tuple)) or len(raw) != 2:
        raise MalformedMove("'bid' must be a list [quantity, face]")
    quantity, face = raw
    if not is_int(quantity) or not is_int(face):
        raise MalformedMove("a bid's quantity and face must be integers")
    if quantity < 1:
        raise MalformedMove("a bid's quantity must be at least 1")
    if not 1 <= face <= FACES:
        raise MalformedMove(f"a bid's face must be between 1 and {FACES}")
    return (quantity, face)


def round_data(result: RoundResult) -> dict[str, Any]:
    """Return a revealed round as plain data (the ``last_round`` of views and snapshots)."""
    return {
        "round": result.round,
        "dice": [list(hand) for hand in result.dice],
        "bids": [list(record) for record in result.bids],
        "caller": result.caller,
        "call": result.call,
        "bidder": result.bidder,
        "bid": list(result.bid),
        "count": result.count,
        "losers": list(result.losers),
    }


def replace(values: tuple[V, ...], index: int, value: V) -> tuple[V, ...]:
    """Return ``values`` with ``values[index]`` replaced."""
    return values[:index] + (value,) + values[index + 1 :]


GAME = LiarsDice()
