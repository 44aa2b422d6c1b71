// Connect four, the same rules as gameserver/games/connect4.py: a 7 x 6 grid, discs fall
// to the lowest empty cell of a column, four in a row (row, column or either diagonal)
// wins, a full board without one is a draw. Shared by both peer servers and the load
// generator (which needs the legal columns). Cells are numbered row * 7 + column with
// row 0 at the bottom; 0 is empty, 1 and 2 are the seats' discs.

"use strict";

const WIDTH = 7;
const HEIGHT = 6;
const DIRECTIONS = [[1, 0], [0, 1], [1, 1], [1, -1]];

/** The row a disc dropped in `col` lands on, or -1 when the column is full. */
function landingRow(cells, col) {
  for (let row = 0; row < HEIGHT; row++) {
    if (!cells[row * WIDTH + col]) return row;
  }
  return -1;
}

/** The columns a disc can be dropped in. */
function legalColumns(cells) {
  const legal = [];
  for (let col = 0; col < WIDTH; col++) {
    if (!cells[(HEIGHT - 1) * WIDTH + col]) legal.push(col);
  }
  return legal;
}

/** True when the disc at (row, col) is part of four or more of its seat in a line. */
function connectsFour(cells, row, col) {
  const disc = cells[row * WIDTH + col];
  for (const [dc, dr] of DIRECTIONS) {
    let run = 1;
    for (const sign of [1, -1]) {
      let c = col + sign * dc;
      let r = row + sign * dr;
      while (c >= 0 && c < WIDTH && r >= 0 && r < HEIGHT && cells[r * WIDTH + c] === disc) {
        run++;
        c += sign * dc;
        r += sign * dr;
      }
    }
    if (run >= 4) return true;
  }
  return false;
}

module.exports = { WIDTH, HEIGHT, landingRow, legalColumns, connectsFour };
