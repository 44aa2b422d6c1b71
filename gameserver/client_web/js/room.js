// A room: the board, whose turn it is, clocks, seats, chat, resign / rematch / leave.
// Players and spectators share this screen; spectators simply cannot act.

import { h, replace, FocusKeeper, formatClock, messagePage } from "./dom.js";
import { rendererFor, SEAT_COLORS, RENDERERS } from "../games/index.js";
import { turnAlertsBox } from "./alerts.js";
import { ratingText } from "./ratings.js";

const CLOCK_TICK_MS = 100;
// A running clock with less time than this for the current turn is shown in red.
const LOW_CLOCK_MS = 10000;
const RESIGN_CONFIRM_MS = 4000;
// Why a room is paused (RoomSummary.paused), in words for the player.
const PAUSE_REASONS = {
  storage_unavailable: "The server can't record moves right now; the match is paused and resumes by itself.",
};
const PAUSED_OTHERWISE = "The match is paused; it resumes by itself.";

/** Remember which game a room plays, so a reloaded tab can draw it before any summary. */
function rememberGame(roomId, game) {
  if (game) sessionStorage.setItem(`gs.roomGame.${roomId}`, game);
}

function gameOf(roomId, data) {
  const known = data.summary?.game || sessionStorage.getItem(`gs.roomGame.${roomId}`);
  if (known) return known;
  const view = data.state?.view;
  if (view) {
    for (const renderer of Object.values(RENDERERS)) {
      if (renderer.detect && renderer.detect(view)) return renderer.name;
    }
  }
  return null;
}

export function mountRoom(root, app, roomId) {
  const data = app.room(roomId);
  let pendingMove = false;
  let receivedAt = performance.now();
  let lastState = null;
  let rematchAsked = false;
  let missing = false;

  const title = h("h1", { id: "room-title" }, "Room");
  const status = h("p", { id: "turn-status", class: "turn-status", role: "status", "aria-live": "polite" });
  const board = h("div", { id: "board", class: "board", tabindex: "-1" });
  const boardFocus = new FocusKeeper(board);
  const result = h("div", { id: "result", class: "result", hidden: true, role: "status" });
  const pausedBanner = h("p", { id: "room-paused", class: "notice notice-paused", hidden: true, role: "status" });
  const closedNotice = h(
    "p",
    { id: "room-closed", class: "notice notice-closed", hidden: true, role: "status" },
    "This room has closed. ",
    h("a", { href: "#/", data: { action: "lobby" } }, "Back to the lobby"),
  );
  const seatsList = h("ol", { id: "seats", class: "seats", "aria-label": "Players" });
  const watching = h("p", { id: "watching", class: "muted small watching" });
  const invite = h("div", { id: "invite", class: "invite", hidden: true });
  const resignButton = h("button", { type: "button", id: "resign", class: "danger", data: { action: "resign" } }, "Resign");
  const rematchButton = h("button", { type: "button", id: "rematch", class: "primary", hidden: true, data: { action: "rematch" } }, "Rematch");
  const leaveButton = h("button", { type: "button", id: "leave", data: { action: "leave" } }, "Leave");
  const alertsBox = turnAlertsBox(app);
  const chatLog = h("ol", { id: "chat-log", class: "chat-log", "aria-live": "polite", "aria-label": "Chat" });
  const chatInput = h("input", { id: "chat-input", type: "text", maxlength: "500", placeholder: "Say something…", "aria-label": "Chat message", autocomplete: "off" });
  const chatSend = h("button", { type: "submit" }, "Send");
  const chatForm = h("form", { id: "chat-form", class: "chat-form" }, chatInput, chatSend);
  const container = h(
    "div",
    { id: "room", class: "room", data: { roomId } },
    h("div", { class: "room-head" }, title, status),
    closedNotice,
    pausedBanner,
    h(
      "div",
      { class: "room-body" },
      h("div", { class: "board-wrap" }, board, result),
      h(
        "aside",
        { class: "side" },
        h("div", { class: "seats-box" }, seatsList, watching),
        invite,
        alertsBox,
        h("div", { class: "controls row" }, resignButton, rematchButton, leaveButton),
        h("section", { class: "chat", "aria-label": "Chat" }, chatLog, chatForm),
      ),
    ),
  );
  // Until the server has told us anything about the room, show no half-built controls.
  const opening = h("p", { id: "room-opening", class: "muted" }, "Opening the room…");
  replace(root, opening, container);

  function names() {
    const seats = data.state?.seats || data.summary?.seats || [];
    // Names as the server sends them: it keeps them apart (e.g. two computer seats).
    return seats.map((s) => (s.kind === "open" ? "open seat" : s.name || (s.kind === "bot" ? "Computer" : `Seat ${s.seat + 1}`)));
  }

  function mySeat() {
    const state = data.state;
    if (state) return state.seat ?? null;
    return app.mySeats.has(roomId) ? app.mySeats.get(roomId) : null;
  }

  function draw() {
    if (missing && !data.state) return;
    const known = Boolean(data.state || data.summary || app.mySeats.has(roomId));
    opening.hidden = known;
    container.hidden = !known;
    const state = data.state;
    const summary = data.summary;
    const game = gameOf(roomId, data);
    rememberGame(roomId, game);
    const renderer = rendererFor(game || "unknown");
    const seat = mySeat();
    const outcome = state?.outcome || data.over?.outcome || null;
    const toAct = state?.to_act || [];
    const myTurn = Boolean(state && seat !== null && toAct.includes(seat) && !outcome);
    const seatNames = names();
    // A closed room was released by the server: nothing more can happen in it.
    const closed = summary?.status === "closed";
    const paused = closed ? null : summary?.paused ?? null;

    title.textContent = game ? renderer.title : "Room";
    container.dataset.game = game || "";
    container.dataset.seat = seat === null ? "spectator" : String(seat);
    container.dataset.version = state ? String(state.version) : "";
    container.dataset.match = state ? String(state.match) : "";
    container.dataset.status = outcome ? "over" : state ? "playing" : summary?.status || "waiting";
    container.dataset.myTurn = myTurn ? "true" : "false";
    container.dataset.toAct = toAct.join(",");
    container.dataset.paused = paused || "";
    container.dataset.closed = closed ? "true" : "false";
    closedNotice.hidden = !closed;
    pausedBanner.hidden = !paused;
    pausedBanner.textContent = paused ? PAUSE_REASONS[paused] || PAUSED_OTHERWISE : "";

    // Whose turn / result line.
    let text;
    if (outcome) text = describeOutcome(outcome, seat, seatNames);
    else if (!state) {
      const open = (summary?.seats || []).filter((s) => s.kind === "open").length;
      text = open ? `Waiting for ${open} more player${open > 1 ? "s" : ""}…` : "Waiting for the match to start…";
    } else if (myTurn) text = "Your turn";
    else if (seat === null) text = `${toAct.map((s) => seatNames[s]).join(" and ")} to move`;
    else text = `Waiting for ${toAct.map((s) => seatNames[s]).join(" and ")}`;
    if (state && !outcome && renderer.summary) {
      const extra = renderer.summary(state.view, { seat, names: seatNames });
      if (extra) text += ` · ${extra}`;
    }
    status.textContent = text;
    status.classList.toggle("your-turn", myTurn);
    app.alerts.update(myTurn, renderer.title);
    alertsBox.hidden = seat === null;

    // Board.
    board.dataset.game = game || "";
    boardFocus.render(() => {
      board.replaceChildren();
      if (!state) {
        board.appendChild(h("p", { class: "muted board-placeholder" }, "The board appears when every seat is taken."));
        return;
      }
      renderer.render(board, state.view, {
        seat,
        canAct: myTurn && !pendingMove && !paused,
        legal: myTurn ? state.legal_moves ?? null : [],
        move: sendMove,
        names: seatNames,
        colors: SEAT_COLORS,
        over: Boolean(outcome),
      });
    });

    // Result panel.
    result.hidden = !outcome;
    if (outcome) {
      const replayId = data.over?.replay_id;
      replace(
        result,
        h("strong", { data: { outcome: outcomeKind(outcome, seat) } }, describeOutcome(outcome, seat, seatNames)),
        replayId ? h("a", { href: `#/replays/${encodeURIComponent(replayId)}`, class: "button", data: { action: "replay" } }, "Watch the replay") : null,
        ratingLine(data.rating, state?.match ?? data.over?.match, app.conn.playerId),
      );
    }
    result.dataset.winners = outcome ? (outcome.winners || []).join(",") : "";

    // Seats with clocks. Rematch votes arrive in `room` pushes, so they come from the summary.
    const seats = state?.seats || summary?.seats || [];
    const votes = new Set(outcome ? (summary?.seats || []).filter((s) => s.wants_rematch).map((s) => s.seat) : []);
    replace(
      seatsList,
      seats.map((s) =>
        h(
          "li",
          {
            class: `seat${toAct.includes(s.seat) && !outcome ? " acting" : ""}`,
            data: { seat: s.seat, kind: s.kind, connected: s.kind === "human" ? String(Boolean(s.connected)) : null, you: s.seat === seat ? "true" : null },
          },
          h("span", { class: "swatch", style: `background: ${SEAT_COLORS[s.seat % SEAT_COLORS.length]}`, "aria-hidden": "true" }, renderer.seatLabel ? renderer.seatLabel(s.seat) : ""),
          h("span", { class: "seat-name" }, seatNames[s.seat] || "", s.seat === seat ? " (you)" : ""),
          s.kind === "bot" ? h("span", { class: "badge" }, "bot") : null,
          s.account === "bot" ? h("span", { class: "badge", data: { account: "bot" } }, "bot account") : null,
          s.kind === "human" && !s.connected ? h("span", { class: "badge badge-away" }, "offline") : null,
          votes.has(s.seat) ? h("span", { class: "badge badge-rematch", data: { rematch: s.seat } }, "wants a rematch") : null,
          h("span", { class: "clock", data: { clockSeat: s.seat } }),
        ),
      ),
    );
    drawClocks();
    const spectators = summary?.spectators ?? 0;
    watching.textContent = spectators ? `${spectators} watching` : "";
    watching.hidden = !spectators;
    watching.dataset.count = String(spectators);

    // Invite link for private rooms, while a seat is open.
    const code = data.invite && seats.some((s) => s.kind === "open") ? data.invite : null;
    invite.hidden = !code;
    if (code) {
      const link = `${location.origin}${location.pathname}#/join/${encodeURIComponent(code)}`;
      const field = h("input", { id: "invite-link", type: "text", readonly: true, value: link, "aria-label": "Invite link" });
      replace(
        invite,
        h("span", {}, "Invite a friend:"),
        field,
        h("button", { type: "button", on: { click: () => { field.select(); navigator.clipboard?.writeText(link).catch(() => {}); app.toast("Invite link copied", { kind: "info" }); } } }, "Copy"),
      );
    }

    resignButton.hidden = seat === null || Boolean(outcome) || !state || closed;
    rematchButton.hidden = seat === null || !outcome || closed;
    rematchButton.disabled = rematchAsked || closed;
    const othersAsked = [...votes].some((s) => s !== seat);
    rematchButton.textContent = rematchAsked || votes.has(seat) ? "Rematch asked…" : othersAsked ? "Accept rematch" : "Rematch";
    chatForm.hidden = false;
    chatInput.disabled = closed;
    chatSend.disabled = closed;
    chatInput.placeholder = closed ? "The room has closed" : "Say something…";

    // Chat.
    replace(
      chatLog,
      data.chat.map((m) =>
        h(
          "li",
          { data: { seat: m.seat ?? "spectator" } },
          h("span", { class: "chat-name", style: m.seat === null || m.seat === undefined ? null : `color: ${SEAT_COLORS[m.seat % SEAT_COLORS.length]}` }, m.name, ": "),
          h("span", { class: "chat-text" }, m.text),
        ),
      ),
    );
    chatLog.scrollTop = chatLog.scrollHeight;
  }

  function drawClocks() {
    const state = data.state;
    const clock = state?.clock;
    const outcome = state?.outcome;
    const elapsed = performance.now() - receivedAt;
    for (const el of seatsList.querySelectorAll("[data-clock-seat]")) {
      const seat = Number(el.dataset.clockSeat);
      if (!clock) {
        el.textContent = "";
        continue;
      }
      const running = !outcome && (clock.running || []).includes(seat);
      const parts = [];
      // The time left for this turn: the bank or the per-move limit, whichever ends first.
      let left = Infinity;
      if (clock.banks_ms) {
        const ms = clock.banks_ms[seat] - (running ? elapsed : 0);
        parts.push(formatClock(ms));
        el.dataset.ms = String(Math.max(0, Math.round(ms)));
        left = ms;
      }
      if (clock.move_ms !== null && clock.move_ms !== undefined && running) {
        const ms = clock.move_ms - elapsed;
        parts.push(`${formatClock(ms)} to move`);
        left = Math.min(left, ms);
      }
      el.textContent = parts.join(" · ");
      el.classList.toggle("running", running);
      el.classList.toggle("low", running && left < LOW_CLOCK_MS);
    }
  }

  async function sendMove(move) {
    const state = data.state;
    if (!state || pendingMove || isPaused()) return;
    pendingMove = true;
    draw();
    try {
      await app.conn.request("move", { room_id: roomId, version: state.version, move });
    } catch (err) {
      // The move did not count; the board stays as it was, so the player plays it
      // again once the room resumes (the banner says when).
      if (err.code === "storage_unavailable") {
        app.toast("The server couldn't record your move, so it did not count. Play it again when the match resumes.", { code: err.code });
      } else app.showError(err);
    } finally {
      pendingMove = false;
      draw();
    }
  }

  const isPaused = () => data.summary?.status !== "closed" && Boolean(data.summary?.paused);

  function onKey(event) {
    if (event.target.closest && event.target.closest("input, textarea, select")) return;
    const state = data.state;
    if (!state) return;
    const renderer = rendererFor(gameOf(roomId, data) || "unknown");
    if (!renderer.onKey) return;
    const seat = mySeat();
    const myTurn = seat !== null && (state.to_act || []).includes(seat) && !state.outcome;
    const handled = renderer.onKey(event, state.view, {
      seat,
      canAct: myTurn && !pendingMove && !isPaused(),
      legal: myTurn ? state.legal_moves ?? null : [],
      move: sendMove,
    });
    if (handled) event.preventDefault();
  }

  // Resigning, and leaving a match still being played (which resigns it), take a second
  // click within a few seconds, so a stray click never costs a match.
  function confirmFirst(button, label, confirmLabel, needsConfirm, action) {
    let armed = null;
    const disarm = () => {
      clearTimeout(armed);
      armed = null;
      button.textContent = label;
      delete button.dataset.armed;
    };
    button.addEventListener("click", async () => {
      if (needsConfirm() && !armed) {
        button.textContent = confirmLabel;
        button.dataset.armed = "true";
        armed = setTimeout(disarm, RESIGN_CONFIRM_MS);
        return;
      }
      disarm();
      await action();
    });
    disarmers.push(disarm);
  }

  // A confirmation is for the match it was asked in: a new match or a result cancels it.
  const disarmers = [];
  const disarmAll = () => disarmers.forEach((disarm) => disarm());
  confirmFirst(resignButton, "Resign", "Click again to resign", () => true, async () => {
    try {
      await app.conn.request("resign", { room_id: roomId });
    } catch (err) {
      app.showError(err);
    }
  });

  rematchButton.addEventListener("click", async () => {
    rematchAsked = true;
    draw();
    try {
      await app.conn.request("rematch", { room_id: roomId });
    } catch (err) {
      rematchAsked = false;
      app.showError(err);
      draw();
    }
  });

  const playing = () => mySeat() !== null && Boolean(data.state) && !data.state.outcome && !data.over;
  confirmFirst(leaveButton, "Leave", "Click again to leave (you resign)", playing, async () => {
    try {
      await app.conn.request("leave_room", { room_id: roomId });
    } catch (err) {
      // Already out of it (or the room was released): leaving is done either way.
      if (err.code !== "not_in_room" && err.code !== "room_not_found") app.showError(err);
    }
    app.mySeats.delete(roomId);
    app.watching.delete(roomId);
    app.rooms.delete(roomId);
    app.navigate("#/");
  });

  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (!text) return;
    try {
      await app.conn.request("chat", { room_id: roomId, text });
      chatInput.value = "";
    } catch (err) {
      app.showError(err);
    }
  });

  // Seated players get their state pushed after every (re)connect; spectators ask again,
  // unless this connection already watches the room (the lobby's Watch, a bots-only room).
  async function attach() {
    await app.whenReady();
    if (app.mySeats.has(roomId) || app.watching.has(roomId)) return;
    app.watching.add(roomId);
    try {
      const joined = await app.conn.request("spectate", { room_id: roomId });
      data.summary = joined.room;
      draw();
    } catch (err) {
      app.watching.delete(roomId);
      if (err.code === "disconnected") return;
      if (err.code === "room_not_found" && !data.state) {
        missing = true;
        replace(
          root,
          messagePage({
            id: "room-missing",
            code: err.code,
            title: "Room not found",
            text: "This room does not exist (any more): its match may have ended and everyone left, or the link is wrong.",
            back: { href: "#/", label: "Back to the lobby" },
          }),
        );
        return;
      }
      app.showError(err);
    }
  }

  function onRoomChange(event) {
    if (event.detail !== roomId) return;
    if (data.state !== lastState) {
      if (lastState && data.state && data.state.match !== lastState.match) rematchAsked = false;
      if (!lastState || !data.state || data.state.match !== lastState.match || Boolean(data.state.outcome) !== Boolean(lastState.outcome)) {
        disarmAll();
      }
      lastState = data.state;
      receivedAt = performance.now();
    }
    draw();
  }

  const ticker = setInterval(drawClocks, CLOCK_TICK_MS);
  app.addEventListener("roomchange", onRoomChange);
  app.addEventListener("welcome", attach);
  document.addEventListener("keydown", onKey);
  lastState = data.state;
  draw();
  attach();

  return () => {
    clearInterval(ticker);
    disarmAll();
    app.alerts.clear();
    app.removeEventListener("roomchange", onRoomChange);
    app.removeEventListener("welcome", attach);
    document.removeEventListener("keydown", onKey);
  };
}

/** Whether the match ended without a result: no winner and no draw (the room stopped it). */
export function isAborted(outcome) {
  return !outcome.draw && (outcome.winners || []).length === 0;
}

/** How the match ended for the viewer: "win", "loss", "draw", "aborted" or "over" (spectators). */
function outcomeKind(outcome, seat) {
  if (outcome.draw) return "draw";
  if (isAborted(outcome)) return "aborted";
  if (outcome.winners.includes(seat)) return "win";
  return seat === null ? "over" : "loss";
}

/** A plain sentence for how the match ended, from the viewer's seat (null = spectator). */
export function describeOutcome(outcome, seat, names) {
  if (isAborted(outcome)) return outcome.reason ? `Match aborted: ${outcome.reason}` : "Match aborted";
  const reason = outcome.reason ? ` (${outcome.reason})` : "";
  if (outcome.draw) return `Draw${reason}`;
  const winners = outcome.winners || [];
  if (seat !== null && seat !== undefined) {
    if (winners.includes(seat)) return `You won${reason}`;
    const who = winners.map((s) => names[s] || `Seat ${s + 1}`).join(" and ");
    return `You lost — ${who} won${reason}`;
  }
  return `${winners.map((s) => names[s] || `Seat ${s + 1}`).join(" and ")} won${reason}`;
}

/** "Rating 1500 → 1662? (+162)" for this player after a rated match (section 18). */
function ratingLine(update, match, playerId) {
  if (!update || update.match !== match) return null;
  const mine = update.changes.find((c) => c.player_id === playerId);
  if (!mine) return null;
  const delta = Math.round(mine.after) - Math.round(mine.before);
  return h(
    "p",
    { id: "rating-change", data: { before: Math.round(mine.before), after: Math.round(mine.after), provisional: String(mine.provisional) } },
    `Rating ${ratingText(mine.before, false)} → ${ratingText(mine.after, mine.provisional)} (${delta >= 0 ? "+" : ""}${delta})`,
  );
}

