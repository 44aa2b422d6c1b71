// Connect four as a boardgame.io 0.50 game (the rules of ./rules.js).
//
// Moves are `client: false`: the server alone runs them and the mover learns the result
// from the server's update, as with the other servers (no optimistic local move).
// boardgame.io ends a game for good once `endIf` fires; to keep playing match after
// match on the same connections (as the other servers do with their rematch), the
// outcome is kept in G instead, and the player whose turn it is then starts the next
// match with the `rematch` move (one move, where the others need both players' vote).

"use strict";

const { INVALID_MOVE } = require("boardgame.io/core");
const { WIDTH, HEIGHT, landingRow, connectsFour } = require("./rules");

const DRAW = 2;

function drop({ G, playerID }, column) {
  const seat = Number(playerID);
  if (G.outcome !== null) return INVALID_MOVE;
  const row = Number.isInteger(column) && column >= 0 && column < WIDTH ? landingRow(G.cells, column) : -1;
  if (row < 0) return INVALID_MOVE;
  G.cells[row * WIDTH + column] = seat + 1;
  G.filled++;
  if (connectsFour(G.cells, row, column)) G.outcome = seat;
  else if (G.filled === WIDTH * HEIGHT) G.outcome = DRAW;
}

function rematch({ G }) {
  if (G.outcome === null) return INVALID_MOVE;
  G.cells = new Array(WIDTH * HEIGHT).fill(0);
  G.filled = 0;
  G.outcome = null;
  G.match++;
}

const Connect4 = {
  name: "connect4",
  minPlayers: 2,
  maxPlayers: 2,
  setup: () => ({ cells: new Array(WIDTH * HEIGHT).fill(0), filled: 0, outcome: null, match: 0 }),
  turn: { minMoves: 1, maxMoves: 1 },
  moves: {
    drop: { move: drop, client: false },
    rematch: { move: rematch, client: false },
  },
};

module.exports = { Connect4 };
