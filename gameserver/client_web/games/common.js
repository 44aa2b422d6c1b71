// Helpers shared by the game renderers.

export const SEAT_COLORS = ["#d9534f", "#2f7ed8", "#3a9d5d", "#c77c11", "#8e44ad", "#16a2b8"];

/** True when `move` is in the server's `legal` list (or when no list was sent). */
export function isListed(legal, move) {
  if (!legal) return true;
  const key = JSON.stringify(move, Object.keys(move).sort());
  return legal.some((m) => JSON.stringify(m, Object.keys(m).sort()) === key);
}

/**
 * Arrow-key navigation inside a grid of focusable elements carrying data-row/data-col.
 * Attach to the grid container.
 */
export function gridKeys(container, rows, cols) {
  container.addEventListener("keydown", (event) => {
    const target = event.target.closest("[data-row]");
    if (!target) return;
    const deltas = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    const delta = deltas[event.key];
    if (!delta) return;
    event.preventDefault();
    let r = Number(target.dataset.row);
    let c = Number(target.dataset.col);
    for (let step = 0; step < Math.max(rows, cols); step++) {
      r = (r + delta[0] + rows) % rows;
      c = (c + delta[1] + cols) % cols;
      const next = container.querySelector(`[data-row="${r}"][data-col="${c}"]`);
      if (next && !next.disabled) {
        next.focus();
        return;
      }
    }
  });
}

/** A bot's name as the lobby and replay lists show it: saying it is a computer once. */
export function botName(name) {
  if (!name) return "Computer";
  return /\bbot\b|computer/i.test(name) ? name : `${name} (bot)`;
}
