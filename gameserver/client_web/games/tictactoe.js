// Tic-tac-toe board. View: {board: [null|0|1] x 9, you, turn, line: [a,b,c] | null}.
// Move: {cell: 0..8}. Keys: arrows move between free cells, 1-9 pick a cell (phone-pad order).

import { h } from "../js/dom.js";
import { gridKeys, isListed } from "./common.js";

const MARKS = ["X", "O"];

export default {
  name: "tictactoe",
  title: "Tic-tac-toe",
  blurb: "Three in a row on a 3×3 grid.",
  players: { min: 2, max: 2 },
  options: [],

  detect(view) {
    return Array.isArray(view.board) && view.board.length === 9 && !Array.isArray(view.board[0]);
  },

  render(root, view, ctx) {
    const line = new Set(view.line || []);
    const grid = h("div", { class: "ttt-board", role: "group", "aria-label": "Tic-tac-toe board" });
    view.board.forEach((owner, cell) => {
      const row = Math.floor(cell / 3);
      const col = cell % 3;
      const move = { cell };
      const legal = ctx.canAct && owner === null && isListed(ctx.legal, move);
      const mark = owner === null ? "" : MARKS[owner];
      const label = `Row ${row + 1}, column ${col + 1}: ${owner === null ? "empty" : mark}`;
      grid.appendChild(
        h(
          "button",
          {
            class: `ttt-cell${line.has(cell) ? " win" : ""}`,
            type: "button",
            disabled: !legal,
            "aria-label": label,
            style: owner === null ? null : `color: ${ctx.colors[owner]}`,
            data: { cell, row, col, key: `cell-${cell}`, mark, legal: legal ? "true" : "false" },
            on: { click: () => legal && ctx.move(move) },
          },
          mark,
        ),
      );
    });
    gridKeys(grid, 3, 3);
    root.appendChild(grid);
  },

  onKey(event, view, ctx) {
    const digit = Number(event.key);
    if (!Number.isInteger(digit) || digit < 1 || digit > 9) return false;
    const cell = digit - 1;
    if (ctx.canAct && view.board[cell] === null && isListed(ctx.legal, { cell })) {
      ctx.move({ cell });
      return true;
    }
    return false;
  },

  describeMove(move) {
    return `row ${Math.floor(move.cell / 3) + 1}, column ${(move.cell % 3) + 1}`;
  },

  seatLabel(seat) {
    return MARKS[seat] ?? `#${seat + 1}`;
  },
};
