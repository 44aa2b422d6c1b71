// The renderer registry. Adding a game to the browser client means writing one module
// in this folder and listing it here.
//
// A renderer module's default export:
//   name, title                       the game's registry name and display title
//   players: {min, max}               seat counts the game accepts
//   options: [{key, label, min, max, value} | {key, label, type: "bool", value}]
//                                     options offered when creating a room
//   render(root, view, ctx)           draw `view` into the empty element `root`. ctx holds:
//       seat      the seat being shown (null for spectators and the "all" replay view)
//       canAct    true when this seat may move now (false in replays and for spectators)
//       legal     the server's legal moves for this seat when it sent them, else null
//       move(m)   send move `m` (only call it for a legal move)
//       names     display names by seat; colors: CSS colours by seat
//   summary(view, ctx) -> string      optional one-line status extra (e.g. the current bid)

import tictactoe from "./tictactoe.js";
import connect4 from "./connect4.js";
import liarsdice from "./liarsdice.js";

export { SEAT_COLORS, distinctNames } from "./common.js";

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
