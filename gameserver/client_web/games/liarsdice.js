// Liar's dice table. View (per seat): {you, players, dice: own dice | null (spectators),
// counts, total_dice, turn, round, bid: [q, f] | null, bidder, bids: [[seat, q, f], ...],
// last_round: null | {round, dice: [[...] per seat], bids, caller, call, bidder, bid,
// count, losers}, eliminated, ones_wild, spot_on}.
// Moves: {bid: [quantity, face]}, {call: "liar"}, {call: "spot_on"}.
// In replays with every hand revealed, ctx.allViews holds each seat's own view.

import { h } from "../js/dom.js";
import { isListed } from "./common.js";

const FACE_NAMES = ["", "ones", "twos", "threes", "fours", "fives", "sixes"];

function die(face, extra = "") {
  if (face === null) {
    return h("span", { class: "die hidden", data: { hidden: "true" }, "aria-label": "hidden die" }, "?");
  }
  return h("span", { class: `die${extra}`, data: { face }, "aria-label": `die showing ${face}` }, String(face));
}

function bidText(quantity, face) {
  return `${quantity} × ${face}${quantity === 1 ? "" : "s"}`;
}

function higher(view, quantity, face) {
  if (!view.bid) return true;
  const [q, f] = view.bid;
  return quantity > q || (quantity === q && face > f);
}

export default {
  name: "liarsdice",
  title: "Liar's dice",
  blurb: "Bid on the dice under every cup; call a liar.",
  players: { min: 2, max: 6, default: 3 },
  hiddenInformation: true,
  options: [
    { key: "dice", label: "Dice each", min: 1, max: 10, value: 5 },
    { key: "ones_wild", label: "Ones are wild", type: "bool", value: true },
    { key: "spot_on", label: "Allow “spot on” calls", type: "bool", value: true },
  ],

  detect(view) {
    return "total_dice" in view && "counts" in view;
  },

  render(root, view, ctx) {
    const names = ctx.names || [];
    const nameOf = (s) => names[s] || `Seat ${s + 1}`;
    const eliminated = new Set(view.eliminated || []);
    const table = h("div", { class: "ld", data: { round: view.round } });

    // Every seat's cup: your own dice face up, everyone else's hidden (count only).
    const players = h("div", { class: "ld-players" });
    view.counts.forEach((count, seat) => {
      let faces = null;
      if (seat === view.you && view.dice) faces = view.dice;
      else if (ctx.allViews && ctx.allViews[seat] && ctx.allViews[seat].dice) faces = ctx.allViews[seat].dice;
      const dice = [];
      for (let i = 0; i < count; i++) dice.push(die(faces ? faces[i] ?? null : null));
      players.appendChild(
        h(
          "div",
          {
            class: `ld-player${view.turn === seat ? " acting" : ""}${eliminated.has(seat) ? " out" : ""}`,
            data: { seat, diceCount: count, revealed: faces ? "true" : "false" },
          },
          h("h4", {}, h("span", { class: "swatch", style: `background: ${ctx.colors[seat % ctx.colors.length]}` }), nameOf(seat), seat === view.you ? " (you)" : "", h("span", { class: "muted small" }, eliminated.has(seat) ? "out" : `${count} dice`)),
          h("div", { class: "dice", data: { cup: seat } }, dice),
        ),
      );
    });
    table.appendChild(players);

    // The bid on the table (nothing to show once the match is over).
    const wild = view.ones_wild ? " (ones are wild)" : "";
    if (!ctx.over || view.bid) table.appendChild(
      h(
        "div",
        { class: "ld-bid", id: "ld-bid", data: { bid: view.bid ? view.bid.join(",") : "" } },
        view.bid
          ? [h("strong", {}, `${nameOf(view.bidder)} bids ${bidText(view.bid[0], view.bid[1])}`), ` — ${view.total_dice} dice in play${wild}`]
          : view.turn === null || view.turn === undefined
            ? "No bid"
            : `Round ${view.round}: ${nameOf(view.turn)} opens the bidding — ${view.total_dice} dice in play${wild}`,
      ),
    );

    if (ctx.canAct) table.appendChild(actions(view, ctx));

    if (view.bids && view.bids.length) {
      table.appendChild(
        h(
          "ol",
          { class: "ld-history", "aria-label": "Bids this round" },
          view.bids.map(([s, q, f]) => h("li", {}, `${nameOf(s)}: ${bidText(q, f)}`)),
        ),
      );
    }

    if (view.last_round) table.appendChild(lastRound(view.last_round, nameOf, view.ones_wild));
    root.appendChild(table);
  },

  describeMove(move) {
    if (move.bid) return `bids ${bidText(move.bid[0], move.bid[1])}`;
    if (move.call === "liar") return "calls liar";
    if (move.call === "spot_on") return "calls spot on";
    return JSON.stringify(move);
  },

  summary(view, ctx) {
    if (!view.bid) return "";
    return `bid ${bidText(view.bid[0], view.bid[1])}`;
  },
};

function legalBids(view, ctx) {
  const bids = new Set();
  if (ctx.legal) {
    for (const m of ctx.legal) if (m.bid) bids.add(`${m.bid[0]},${m.bid[1]}`);
    return bids;
  }
  const lowFace = view.ones_wild ? 2 : 1;
  for (let q = 1; q <= view.total_dice; q++) {
    for (let f = lowFace; f <= 6; f++) if (higher(view, q, f)) bids.add(`${q},${f}`);
  }
  return bids;
}

function actions(view, ctx) {
  const bids = legalBids(view, ctx);
  const canCall = (call) => Boolean(view.bid) && (call !== "spot_on" || view.spot_on) && isListed(ctx.legal, { call });
  const lowFace = view.ones_wild ? 2 : 1;
  const first = [...bids].map((b) => b.split(",").map(Number)).sort((a, b) => a[0] - b[0] || a[1] - b[1])[0];
  let quantity = first ? first[0] : 1;
  let face = first ? first[1] : lowFace;
  const maxQuantity = Math.max(quantity, ...[...bids].map((b) => Number(b.split(",")[0])));

  const qty = h("input", { id: "ld-quantity", type: "number", min: quantity, max: maxQuantity, value: quantity, "aria-label": "Quantity", data: { key: "ld-quantity" } });
  const faces = h("div", { class: "ld-faces", role: "group", "aria-label": "Face" });
  const bidButton = h("button", { type: "button", class: "primary", id: "ld-bid-button", data: { action: "bid", key: "ld-bid-button" } });
  const liar = h("button", { type: "button", class: "danger", id: "ld-liar", disabled: !canCall("liar"), data: { action: "liar", key: "ld-liar" }, on: { click: () => canCall("liar") && ctx.move({ call: "liar" }) } }, "Liar!");
  const spot = view.spot_on
    ? h("button", { type: "button", id: "ld-spot-on", disabled: !canCall("spot_on"), data: { action: "spot_on", key: "ld-spot-on" }, on: { click: () => canCall("spot_on") && ctx.move({ call: "spot_on" }) } }, "Spot on!")
    : null;

  function refresh() {
    faces.replaceChildren();
    for (let f = lowFace; f <= 6; f++) {
      const ok = bids.has(`${quantity},${f}`);
      faces.appendChild(
        h("button", { type: "button", "aria-pressed": f === face ? "true" : "false", "aria-label": FACE_NAMES[f], disabled: !ok, data: { face: f, key: `ld-face-${f}` }, on: { click: () => { face = f; refresh(); } } }, String(f)),
      );
    }
    const ok = bids.has(`${quantity},${face}`);
    bidButton.disabled = !ok;
    bidButton.dataset.legal = ok ? "true" : "false";
    bidButton.textContent = `Bid ${bidText(quantity, face)}`;
  }

  qty.addEventListener("input", () => {
    quantity = Number(qty.value) || 1;
    if (!bids.has(`${quantity},${face}`)) {
      for (let f = lowFace; f <= 6; f++) {
        if (bids.has(`${quantity},${f}`)) {
          face = f;
          break;
        }
      }
    }
    refresh();
  });
  qty.addEventListener("keydown", (event) => {
    if (event.key === "Enter") bidButton.click();
  });
  bidButton.addEventListener("click", () => {
    if (bids.has(`${quantity},${face}`)) ctx.move({ bid: [quantity, face] });
  });
  refresh();

  return h(
    "div",
    { class: "ld-actions", id: "ld-actions" },
    h("div", { class: "row" }, h("label", { class: "field inline" }, h("span", {}, "Quantity"), qty), h("span", { class: "muted small" }, "Face:"), faces),
    h("div", { class: "row" }, bidButton, liar, spot),
  );
}

function lastRound(last, nameOf, wild) {
  const face = last.bid[1];
  const callText = last.call === "spot_on" ? "called spot on" : "called liar";
  const losers = (last.losers || []).map(nameOf).join(", ");
  return h(
    "section",
    { class: "ld-last", id: "ld-last", data: { round: last.round }, "aria-label": "Last round revealed" },
    h(
      "p",
      {},
      h("strong", {}, `Round ${last.round}: `),
      `${nameOf(last.caller)} ${callText} on ${nameOf(last.bidder)}'s ${bidText(last.bid[0], face)} — there were ${last.count}. `,
      losers ? `${losers} lost a die.` : "",
    ),
    h(
      "div",
      { class: "ld-reveal" },
      last.dice.map((hand, seat) =>
        h("div", { class: "ld-reveal-row", data: { seat } }, h("span", { class: "ld-reveal-name" }, nameOf(seat)), h("span", { class: "dice" }, hand.map((f) => die(f, f === face || (wild && f === 1) ? " match" : "")))),
      ),
    ),
  );
}
