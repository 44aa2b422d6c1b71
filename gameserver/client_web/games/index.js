// The renderer registry. Adding a game to the browser client means writing one module
// in this folder and listing it here.
//
// A renderer module's default export:
//   name, title, blurb                the game's registry name, display title, one-line pitch
//   players: {min, max, default?}     seat counts the game accepts (default for one-click play)
//   options: [{key, label, min, max, value} | {key, label, type: "bool", value}]
//                                     options offered when creating a room
//   render(root, view, ctx)           draw `view` into the empty element `root`. ctx holds:
//       seat      the seat being shown (null for spectators and the "all" replay view)
//       canAct    true when this seat may move now (false in replays and for spectators)
//       legal     the server's legal moves for this seat when it sent them, else null
//       move(m)   send move `m` (only call it for a legal move)
//       names     display names by seat; colors: CSS colours by seat
//       over      true once the match has ended
//       allViews  (replays, "all" perspective) every seat's own view, to reveal everything
//   Optional:
//   hiddenInformation: true           seats see different views (the replay viewer then
//                                     offers to watch from one seat or with all revealed)
//   detect(view) -> bool              recognise this game's view (a reloaded tab may get a
//                                     state before it knows the room's game)
//   onKey(event, view, ctx) -> bool   handle a key pressed anywhere on the room screen
//                                     (e.g. digits pick a column); true if it was used
//   describeMove(move) -> string      words for a move in the replay move list
//   seatLabel(seat) -> string         a mark shown in the seat's colour swatch (X / O)
//   summary(view, ctx) -> string      an extra for the turn line (e.g. the current bid)
//
// Interactive elements carry data-* attributes (data-cell, data-column, data-legal, ...)
// so tests and scripts can find them without depending on the layout.

import tictactoe from "./tictactoe.js";
import connect4 from "./connect4.js";
import liarsdice from "./liarsdice.js";

export { SEAT_COLORS, botName } from "./common.js";

export const RENDERERS = { tictactoe, connect4, liarsdice };

const fallback = {
  name: "unknown",
  title: "Game",
  players: { min: 2, max: 2 },
  options: [],
  render(root, view) {
    const pre = document.createElement("pre");
    pre.className = "raw-view";
    pre.textContent = JSON.stringify(view, null, 2);
    root.appendChild(pre);
  },
};

/** Return the renderer for game `name` (a plain JSON dump for games we do not know). */
export function rendererFor(name) {
  return RENDERERS[name] || { ...fallback, name, title: name };
}
