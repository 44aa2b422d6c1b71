// Connect four board. View: {board: rows (board[0] is the top row) of null|0|1, you, turn,
// last: [row, col] | null, line: [[row, col], ...] | null}. Move: {column: c}.
// Each column is one button: click it, or focus it with the arrow keys and press Enter;
// number keys 1-7 drop into that column directly.

import { h } from "../js/dom.js";
import { isListed } from "./common.js";

export default {
  name: "connect4",
  title: "Connect four",
  blurb: "Drop discs; four in a row, column or diagonal wins.",
  players: { min: 2, max: 2 },
  options: [],

  detect(view) {
    return Array.isArray(view.board) && Array.isArray(view.board[0]) && view.board[0].length === 7;
  },

  render(root, view, ctx) {
    const rows = view.board.length;
    const cols = view.board[0].length;
    const line = new Set((view.line || []).map(([r, c]) => `${r},${c}`));
    const last = view.last ? `${view.last[0]},${view.last[1]}` : null;
    const grid = h("div", { class: "c4-board", role: "group", "aria-label": "Connect four board", style: `--cols: ${cols}` });
    for (let col = 0; col < cols; col++) {
      const move = { column: col };
      const full = view.board[0][col] !== null;
      const legal = ctx.canAct && !full && isListed(ctx.legal, move);
      const filled = view.board.filter((row) => row[col] !== null).length;
      const column = h("button", {
        type: "button",
        class: "c4-column",
        disabled: !legal,
        "aria-label": `Column ${col + 1}, ${filled} of ${rows} filled${legal ? "" : ", not playable now"}`,
        data: { column: col, row: 0, col, key: `col-${col}`, legal: legal ? "true" : "false" },
        on: { click: () => legal && ctx.move(move) },
      });
      for (let row = 0; row < rows; row++) {
        const owner = view.board[row][col];
        const id = `${row},${col}`;
        column.appendChild(
          h("span", {
            class: `c4-cell${line.has(id) ? " win" : ""}${id === last ? " last" : ""}`,
            data: { cellRow: row, cellCol: col, owner: owner === null ? "" : owner },
            style: owner === null ? null : `--disc: ${ctx.colors[owner]}`,
          }),
        );
      }
      grid.appendChild(column);
    }
    grid.addEventListener("keydown", (event) => {
      const target = event.target.closest("[data-column]");
      if (!target || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
      event.preventDefault();
      const step = event.key === "ArrowLeft" ? -1 : 1;
      let c = Number(target.dataset.column);
      for (let i = 0; i < cols; i++) {
        c = (c + step + cols) % cols;
        const next = grid.querySelector(`[data-column="${c}"]`);
        if (!next.disabled) {
          next.focus();
          return;
        }
      }
    });
    root.appendChild(grid);
  },

  onKey(event, view, ctx) {
    const digit = Number(event.key);
    const cols = view.board[0].length;
    if (!Number.isInteger(digit) || digit < 1 || digit > cols) return false;
    const move = { column: digit - 1 };
    if (ctx.canAct && view.board[0][digit - 1] === null && isListed(ctx.legal, move)) {
      ctx.move(move);
      return true;
    }
    return false;
  },

  describeMove(move) {
    return `column ${move.column + 1}`;
  },

  seatLabel() {
    return "";
  },
};
