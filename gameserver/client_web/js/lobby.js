// The lobby: one-click play against the computer, quick match, creating a room with
// options, and the live list of public rooms to join or watch.

import { h, replace } from "./dom.js";
import { RENDERERS, rendererFor, botName } from "../games/index.js";

// Bot strengths offered for computer seats (every game has at least these strategies).
export const STRENGTHS = [
  { strategy: "best", label: "Computer (strong)", level: "Strong" },
  { strategy: "random", label: "Computer (easy)", level: "Easy" },
];
// The strength last chosen for "Play the computer" (localStorage).
const STRENGTH_KEY = "gs.vsStrength";

// Time controls offered when creating a room (null = untimed).
export const CLOCKS = [
  { id: "none", label: "No clock", clock: null },
  { id: "blitz", label: "1 min + 2 s per move", clock: { initial_ms: 60000, increment_ms: 2000, per_move_ms: null } },
  { id: "rapid", label: "5 min + 5 s per move", clock: { initial_ms: 300000, increment_ms: 5000, per_move_ms: null } },
  { id: "move15", label: "15 s per move", clock: { initial_ms: null, increment_ms: 0, per_move_ms: 15000 } },
  { id: "move60", label: "60 s per move", clock: { initial_ms: null, increment_ms: 0, per_move_ms: 60000 } },
];


export function mountLobby(root, app) {
  const roomsById = new Map();
  const roomList = h("div", { id: "room-list", class: "room-list", data: { count: 0 } });
  const filter = h(
    "select",
    { id: "room-filter", "aria-label": "Show rooms of", on: { change: () => drawRooms() } },
    h("option", { value: "" }, "All games"),
    Object.values(RENDERERS).map((r) => h("option", { value: r.name }, r.title)),
  );

  function busy(promise) {
    return promise.then((result) => app.acceptJoin(result)).catch((err) => app.showError(err));
  }

  const strength = h(
    "select",
    { id: "vs-strength", "aria-label": "Computer strength", on: { change: () => localStorage.setItem(STRENGTH_KEY, strength.value) } },
    STRENGTHS.map((s) => h("option", { value: s.strategy }, s.level)),
  );
  strength.value = STRENGTHS.some((s) => s.strategy === localStorage.getItem(STRENGTH_KEY)) ? localStorage.getItem(STRENGTH_KEY) : STRENGTHS[0].strategy;

  function playComputer(game) {
    const renderer = RENDERERS[game];
    const players = defaultPlayers(renderer);
    const bots = [];
    for (let seat = 1; seat < players; seat++) bots.push({ seat, strategy: strength.value });
    return busy(app.conn.request("create_room", { game, players, options: {}, private: false, bots, clock: null, seat: 0 }));
  }

  // A room this connection already watches is simply opened again.
  function watchRoom(roomId) {
    if (app.watching.has(roomId)) app.navigate(`#/room/${encodeURIComponent(roomId)}`);
    else busy(app.conn.request("spectate", { room_id: roomId }));
  }

  function quickMatch(game) {
    const renderer = RENDERERS[game];
    const players = defaultPlayers(renderer);
    return busy(app.conn.request("quick_match", { game, players }));
  }

  const quick = h(
    "section",
    { class: "card", "aria-labelledby": "play-now-title" },
    h(
      "div",
      { class: "card-head" },
      h("h2", { id: "play-now-title" }, "Play now"),
      h("label", { class: "field inline" }, h("span", {}, "Computer"), strength),
    ),
    h(
      "div",
      { class: "game-tiles" },
      Object.values(RENDERERS).map((r) =>
        h(
          "div",
          { class: "game-tile", data: { game: r.name } },
          h("h3", {}, r.title),
          h("p", { class: "muted small" }, r.blurb || ""),
          h(
            "div",
            { class: "row" },
            h("button", { type: "button", class: "primary", data: { action: "vs-computer", game: r.name }, on: { click: () => playComputer(r.name) } }, "Play the computer"),
            h("button", { type: "button", data: { action: "quick-match", game: r.name }, on: { click: () => quickMatch(r.name) } }, "Quick match"),
          ),
        ),
      ),
    ),
  );

  const create = createRoomForm(app, busy);

  const list = h(
    "section",
    { class: "card", "aria-labelledby": "rooms-title" },
    h("div", { class: "card-head" }, h("h2", { id: "rooms-title" }, "Open rooms"), filter),
    roomList,
  );

  const mine = h("section", { class: "card", id: "my-rooms", "aria-labelledby": "my-rooms-title", hidden: true });
  replace(root, h("div", { class: "lobby", id: "lobby" }, mine, quick, list, create));

  // A room the server released (its last `room` push said "closed") is gone for good.
  const isClosed = (roomId) => app.rooms.get(roomId)?.summary?.status === "closed";

  // The rooms this player sits in (e.g. after a reload, or after wandering off to the lobby).
  function drawMine() {
    const rows = [...app.mySeats.keys()].filter((roomId) => !isClosed(roomId)).map((roomId) => {
      const data = app.rooms.get(roomId);
      const game = data?.summary?.game || sessionStorage.getItem(`gs.roomGame.${roomId}`) || "unknown";
      const over = Boolean(data?.state?.outcome || data?.over);
      const status = over ? "over" : data?.state ? "playing" : data?.summary?.status || "waiting";
      return h(
        "li",
        { data: { roomId } },
        h("a", { href: `#/room/${encodeURIComponent(roomId)}`, data: { action: "open" } }, rendererFor(game).title),
        " ",
        h("span", { class: `badge badge-${status}` }, status),
      );
    });
    mine.hidden = rows.length === 0;
    replace(mine, h("h2", { id: "my-rooms-title" }, "Your games"), h("ul", { class: "my-rooms" }, rows));
  }

  function drawRooms() {
    const rooms = [...roomsById.values()].filter((room) => !filter.value || room.game === filter.value).filter((room) => !isClosed(room.room_id));
    roomList.dataset.count = String(rooms.length);
    if (!rooms.length) {
      const which = filter.value ? `${rendererFor(filter.value).title} rooms` : "public rooms";
      replace(roomList, h("p", { class: "muted" }, `No ${which} right now. Create one or play the computer.`));
      return;
    }
    const rows = rooms.map((room) => {
      const open = room.seats.filter((s) => s.kind === "open").length;
      const who = room.seats.map((s) => (s.kind === "open" ? "open seat" : s.kind === "bot" ? botName(s.name) : s.name)).join(", ");
      const mine = app.mySeats.has(room.room_id);
      return h(
        "tr",
        { data: { roomId: room.room_id, status: room.status, game: room.game } },
        h("td", {}, rendererFor(room.game).title),
        h("td", {}, who),
        h("td", {}, h("span", { class: `badge badge-${room.status}` }, room.status)),
        h("td", { class: "num" }, String(room.spectators ?? 0)),
        h(
          "td",
          { class: "actions" },
          mine
            ? h("a", { class: "button", href: `#/room/${encodeURIComponent(room.room_id)}`, data: { action: "open" } }, "Open")
            : room.status === "waiting" && open > 0
              ? h("button", { type: "button", class: "primary", data: { action: "join" }, on: { click: () => busy(app.conn.request("join_room", { room_id: room.room_id })) } }, "Join")
              : null,
          h("button", { type: "button", data: { action: "watch" }, on: { click: () => watchRoom(room.room_id) } }, "Watch"),
        ),
      );
    });
    replace(
      roomList,
      h(
        "table",
        { class: "rooms" },
        h("thead", {}, h("tr", {}, h("th", {}, "Game"), h("th", {}, "Players"), h("th", {}, "Status"), h("th", { class: "num" }, "Watching"), h("th", {}, ""))),
        h("tbody", {}, rows),
      ),
    );
  }

  function onLobby(event) {
    for (const room of event.detail.rooms || []) roomsById.set(room.room_id, room);
    for (const id of event.detail.removed || []) roomsById.delete(id);
    drawRooms();
  }

  async function watch() {
    await app.whenReady();
    try {
      const result = await app.conn.request("watch_lobby", { on: true });
      roomsById.clear();
      for (const room of result.rooms || []) roomsById.set(room.room_id, room);
      drawRooms();
    } catch (err) {
      if (err.code !== "disconnected") app.showError(err);
    }
  }

  drawRooms();
  drawMine();
  watch();
  app.addEventListener("lobby", onLobby);
  app.addEventListener("welcome", watch);
  app.addEventListener("welcome", drawMine);
  app.addEventListener("roomchange", drawMine);
  app.addEventListener("roomchange", drawRooms);
  return () => {
    app.removeEventListener("lobby", onLobby);
    app.removeEventListener("welcome", watch);
    app.removeEventListener("welcome", drawMine);
    app.removeEventListener("roomchange", drawMine);
    app.removeEventListener("roomchange", drawRooms);
    if (app.conn.status === "online") app.conn.request("watch_lobby", { on: false }).catch(() => {});
  };
}

/** The number of seats a game is played with unless the player asks for another. */
function defaultPlayers(renderer) {
  return renderer.players.default || renderer.players.min;
}

function createRoomForm(app, busy) {
  const gameSelect = h(
    "select",
    { id: "create-game", name: "game" },
    Object.values(RENDERERS).map((r) => h("option", { value: r.name }, r.title)),
  );
  const playersInput = h("input", { id: "create-players", type: "number", name: "players", min: 2, max: 2, value: 2 });
  const optionsBox = h("div", { class: "options" });
  const seatsBox = h("div", { class: "seats-config", id: "create-seats" });
  const privateBox = h("input", { id: "create-private", type: "checkbox", name: "private" });
  const ratedBox = h("input", { id: "create-rated", type: "checkbox", name: "rated" });
  const clockSelect = h(
    "select",
    { id: "create-clock", name: "clock" },
    CLOCKS.map((c) => h("option", { value: c.id }, c.label)),
  );

  // A change of game resets the player count and options to that game's defaults.
  function drawGame() {
    const renderer = RENDERERS[gameSelect.value];
    playersInput.min = renderer.players.min;
    playersInput.max = renderer.players.max;
    playersInput.value = defaultPlayers(renderer);
    playersInput.disabled = renderer.players.min === renderer.players.max;
    replace(
      optionsBox,
      renderer.options.map((opt) =>
        opt.type === "bool"
          ? h("label", { class: "check option-check" }, h("input", { type: "checkbox", name: `opt-${opt.key}`, data: { option: opt.key, kind: "bool" }, checked: opt.value }), ` ${opt.label}`)
          : h(
              "label",
              { class: "field" },
              h("span", {}, opt.label),
              h("input", { type: "number", name: `opt-${opt.key}`, data: { option: opt.key }, min: opt.min, max: opt.max, value: opt.value }),
            ),
      ),
    );
    drawSeats();
  }

  // A change of player count redraws only the seats (options keep what was entered).
  function drawSeats() {
    const renderer = RENDERERS[gameSelect.value];
    const players = Math.min(renderer.players.max, Math.max(renderer.players.min, Number(playersInput.value) || defaultPlayers(renderer)));
    playersInput.value = players;
    const seats = [];
    for (let seat = 0; seat < players; seat++) {
      const select = h(
        "select",
        { data: { seat }, "aria-label": `Seat ${seat + 1}`, on: { change: (e) => seatChoices.set(seat, e.target.value) } },
        seat === 0 ? h("option", { value: "me" }, "You") : null,
        h("option", { value: "open" }, "Another player"),
        STRENGTHS.map((s) => h("option", { value: `bot:${s.strategy}` }, s.label)),
      );
      select.value = seatChoices.get(seat) || (seat === 0 ? "me" : "bot:best");
      seats.push(h("label", { class: "field" }, h("span", {}, `Seat ${seat + 1}`), select));
    }
    replace(seatsBox, seats);
  }

  // Seat choices survive redrawing the form (a change of game or player count).
  const seatChoices = new Map();
  gameSelect.addEventListener("change", drawGame);
  playersInput.addEventListener("input", () => {
    if (Number(playersInput.value) >= Number(playersInput.min)) drawSeats();
  });
  playersInput.addEventListener("change", drawSeats);
  drawGame();

  const form = h(
    "form",
    {
      id: "create-form",
      class: "card",
      "aria-labelledby": "create-title",
      on: {
        submit: (event) => {
          event.preventDefault();
          const options = {};
          for (const input of optionsBox.querySelectorAll("[data-option]")) {
            options[input.dataset.option] = input.dataset.kind === "bool" ? input.checked : Number(input.value);
          }
          const bots = [];
          let mySeat = null;
          for (const select of seatsBox.querySelectorAll("select")) {
            const seat = Number(select.dataset.seat);
            if (select.value.startsWith("bot:")) bots.push({ seat, strategy: select.value.slice(4) });
            if (select.value === "me") mySeat = seat;
          }
          const clock = CLOCKS.find((c) => c.id === clockSelect.value).clock;
          busy(
            app.conn.request("create_room", {
              game: gameSelect.value,
              players: Number(playersInput.value),
              options,
              private: privateBox.checked,
              rated: ratedBox.checked,
              bots,
              clock,
              seat: mySeat,
            }),
          );
        },
      },
    },
    h("h2", { id: "create-title" }, "Create a room"),
    h(
      "div",
      { class: "form-grid" },
      h("label", { class: "field" }, h("span", {}, "Game"), gameSelect),
      h("label", { class: "field" }, h("span", {}, "Players"), playersInput),
      optionsBox,
      h("label", { class: "field" }, h("span", {}, "Clock"), clockSelect),
    ),
    h("h3", {}, "Seats"),
    seatsBox,
    h("label", { class: "check" }, privateBox, " Private (join by invite link only)"),
    h("label", { class: "check" }, ratedBox, " Rated (accounts only, no computer seats)"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "create-submit" }, "Create room")),
  );
  return form;
}
