// Replays over HTTP: the list of finished matches and a step-by-step viewer with
// autoplay, a move slider and a choice of perspective (one seat, or everything revealed).

import { h, replace, sentence, messagePage } from "./dom.js";
import { RENDERERS, rendererFor, SEAT_COLORS, botName } from "../games/index.js";
import { describeOutcome } from "./room.js";

// Autoplay speeds: milliseconds between steps.
const SPEEDS = [
  { ms: 2000, label: "0.5×" },
  { ms: 1000, label: "1×" },
  { ms: 500, label: "2×" },
  { ms: 250, label: "4×" },
];

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const err = new Error(body.message || `HTTP ${response.status}`);
    err.code = body.error || `http_${response.status}`;
    throw err;
  }
  return body;
}

function playersText(players) {
  return players.map((p) => (p.kind === "bot" ? botName(p.name) : p.name)).join(" vs ");
}

function resultText(summary) {
  const r = summary.result;
  // The room says why it stopped the match ("no first move"); a bare "aborted" adds nothing.
  if (r.aborted) return r.reason && r.reason !== "aborted" ? `Aborted: ${r.reason}` : "Aborted";
  return describeOutcome(r, null, summary.players.map((p) => p.name));
}

// Finished matches fetched per "Show more" click.
const PAGE_SIZE = 50;

function replayRow(r) {
  return h(
    "tr",
    { data: { replayId: r.id, game: r.game } },
    h("td", {}, rendererFor(r.game).title),
    h("td", {}, playersText(r.players)),
    h("td", {}, resultText(r)),
    h("td", { class: "num" }, String(r.length)),
    h("td", {}, new Date(r.started_at).toLocaleString()),
    h("td", {}, h("a", { class: "button", href: `#/replays/${encodeURIComponent(r.id)}`, data: { action: "open-replay" } }, "Watch")),
  );
}

export function mountReplayList(root, app) {
  const list = h("div", { id: "replay-list", class: "replay-list", data: { loaded: "false" } }, h("p", { class: "muted" }, "Loading…"));
  const tbody = h("tbody");
  const more = h("button", { type: "button", id: "replay-more", hidden: true, on: { click: () => load() } }, "Show more");
  const filter = h(
    "select",
    { id: "replay-filter", "aria-label": "Show replays of", on: { change: () => restart() } },
    h("option", { value: "" }, "All games"),
    Object.values(RENDERERS).map((r) => h("option", { value: r.name }, r.title)),
  );
  replace(
    root,
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h1", {}, "Replays"), filter),
      h("p", { class: "muted" }, "Finished matches, newest first. Open one to step through it."),
      list,
      more,
    ),
  );
  let alive = true;
  let shown = 0;
  let generation = 0;

  function restart() {
    shown = 0;
    tbody.replaceChildren();
    list.dataset.loaded = "false";
    load();
  }

  async function load() {
    more.disabled = true;
    const mine = ++generation;
    try {
      const game = filter.value ? `&game=${encodeURIComponent(filter.value)}` : "";
      const page = await fetchJson(`/api/replays?offset=${shown}&limit=${PAGE_SIZE}${game}`);
      if (!alive || mine !== generation) return;
      if (shown === 0) {
        if (!page.replays.length) {
          replace(list, h("p", { class: "muted" }, filter.value ? "No finished matches of this game yet." : "No finished matches yet. Play one!"));
        } else {
          replace(
            list,
            h(
              "table",
              { class: "rooms" },
              h("thead", {}, h("tr", {}, h("th", {}, "Game"), h("th", {}, "Players"), h("th", {}, "Result"), h("th", { class: "num" }, "Moves"), h("th", {}, "Date"), h("th", {}, ""))),
              tbody,
            ),
          );
        }
      }
      for (const r of page.replays) tbody.appendChild(replayRow(r));
      shown += page.replays.length;
      list.dataset.loaded = "true";
      list.dataset.count = String(shown);
      list.dataset.total = String(page.total);
      more.hidden = shown >= page.total;
      more.textContent = `Show more (${page.total - shown} older)`;
    } catch (err) {
      if (!alive) return;
      list.dataset.loaded = "error";
      replace(list, h("p", { class: "form-error", role: "alert" }, `Could not load replays: ${err.message}`));
    } finally {
      more.disabled = false;
    }
  }
  load();
  return () => {
    alive = false;
  };
}

/** Scroll `list` (not the page) just enough to show `item`. */
function scrollIntoList(list, item) {
  // The part of the list that shows its rows: inside the border, padding included.
  const top = list.getBoundingClientRect().top + list.clientTop;
  const bottom = top + list.clientHeight;
  const row = item.getBoundingClientRect();
  if (row.top < top) list.scrollTop -= Math.ceil(top - row.top);
  else if (row.bottom > bottom) list.scrollTop += Math.ceil(row.bottom - bottom);
}

export function mountReplayViewer(root, app, replayId, params) {
  let doc = null;
  let step = 0;
  let timer = null;
  let speed = SPEEDS[1].ms;
  let perspective = params.get("seat") || "all";
  let alive = true;

  const title = h("h1", { id: "replay-title" }, "Replay");
  const meta = h("p", { class: "muted", id: "replay-meta" });
  const board = h("div", { id: "replay-board", class: "board" });
  const position = h("span", { id: "replay-position", class: "replay-position", role: "status", "aria-live": "polite" });
  const slider = h("input", { id: "replay-slider", type: "range", min: 0, max: 0, value: 0, "aria-label": "Move" });
  const perspectiveSelect = h("select", { id: "replay-seat", "aria-label": "Perspective" });
  const perspectiveField = h("label", { class: "field" }, h("span", {}, "Seen by"), perspectiveSelect);
  const speedSelect = h("select", { id: "replay-speed", "aria-label": "Autoplay speed" }, SPEEDS.map((s) => h("option", { value: s.ms, selected: s.ms === speed }, s.label)));
  const playButton = h("button", { type: "button", id: "replay-play", class: "primary", "aria-label": "Play" }, "▶ Play");
  const button = (id, label, text, onClick) => h("button", { type: "button", id, "aria-label": label, on: { click: onClick } }, text);
  const legend = h("ol", { id: "replay-players", class: "seats", "aria-label": "Players" });
  const moves = h("ol", { id: "replay-moves", class: "replay-moves", "aria-label": "Moves" });
  const container = h(
    "div",
    { id: "replay", class: "replay", data: { replayId, step: 0, loaded: "false" } },
    h("div", { class: "room-head" }, title, meta),
    h(
      "div",
      { class: "room-body" },
      h("div", { class: "board-wrap" }, board, h("div", { class: "replay-status" }, position)),
      h(
        "aside",
        { class: "side" },
        h(
          "div",
          { class: "replay-controls" },
          h(
            "div",
            { class: "row" },
            button("replay-first", "First position", "«", () => go(0)),
            button("replay-prev", "Previous move", "◀", () => go(step - 1)),
            playButton,
            button("replay-next", "Next move", "▶", () => go(step + 1)),
            button("replay-last", "Last position", "»", () => go(doc ? doc.steps.length - 1 : 0)),
          ),
          slider,
          h("div", { class: "replay-options" }, h("label", { class: "field" }, h("span", {}, "Speed"), speedSelect), perspectiveField),
        ),
        legend,
        moves,
      ),
    ),
  );
  replace(root, h("p", { class: "crumbs" }, h("a", { href: "#/replays" }, "← All replays")), container);

  function names() {
    return doc ? doc.header.players.map((p) => p.name) : [];
  }

  function describeStep(s) {
    const who = s.seat === null || s.seat === undefined ? "" : `${names()[s.seat] || `Seat ${s.seat + 1}`}: `;
    const renderer = rendererFor(doc.header.game);
    if (s.kind === "start") return "Start";
    if (s.kind === "timeout") return `${who}ran out of time`;
    if (s.kind === "resign") return `${who}resigned`;
    return who + (renderer.describeMove ? renderer.describeMove(s.move) : JSON.stringify(s.move));
  }

  function draw() {
    if (!doc) return;
    const s = doc.steps[step];
    const last = doc.steps.length - 1;
    container.dataset.step = String(step);
    container.dataset.version = String(s.version);
    slider.max = String(last);
    slider.value = String(step);
    position.textContent = step === 0 ? `Start · ${last} moves` : `Move ${step} of ${last} · ${describeStep(s)}`;
    const renderer = rendererFor(doc.header.game);
    const seat = perspective === "all" ? null : Number(perspective);
    board.replaceChildren();
    renderer.render(board, s.view, {
      seat,
      canAct: false,
      legal: [],
      move: () => {},
      names: names(),
      colors: SEAT_COLORS,
      over: step === last,
      allViews: s.views || null,
      replay: true,
    });
    for (const item of moves.querySelectorAll("[data-step]")) {
      const current = Number(item.dataset.step) === step;
      item.classList.toggle("current", current);
      if (current) {
        item.setAttribute("aria-current", "step");
        scrollIntoList(moves, item);
      } else item.removeAttribute("aria-current");
    }
    const atEnd = step >= last;
    if (atEnd && timer) stop();
  }

  function go(target) {
    if (!doc) return;
    step = Math.max(0, Math.min(doc.steps.length - 1, target));
    draw();
  }

  function play() {
    if (!doc) return;
    if (step >= doc.steps.length - 1) step = 0;
    playButton.textContent = "⏸ Pause";
    playButton.setAttribute("aria-label", "Pause");
    container.dataset.playing = "true";
    timer = setInterval(() => go(step + 1), speed);
    draw();
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    playButton.textContent = "▶ Play";
    playButton.setAttribute("aria-label", "Play");
    container.dataset.playing = "false";
  }

  playButton.addEventListener("click", () => (timer ? stop() : play()));
  slider.addEventListener("input", () => go(Number(slider.value)));
  speedSelect.addEventListener("change", () => {
    speed = Number(speedSelect.value);
    if (timer) {
      stop();
      play();
    }
  });
  perspectiveSelect.addEventListener("change", () => {
    perspective = perspectiveSelect.value;
    load();
  });

  function onKey(event) {
    if (event.target.closest && event.target.closest("input[type=text], select, textarea")) return;
    const keys = { ArrowLeft: () => go(step - 1), ArrowRight: () => go(step + 1), Home: () => go(0), End: () => go(doc.steps.length - 1), " ": () => (timer ? stop() : play()) };
    if (keys[event.key] && doc && !(event.target === slider && event.key.startsWith("Arrow"))) {
      event.preventDefault();
      keys[event.key]();
    }
  }
  document.addEventListener("keydown", onKey);

  async function load() {
    const seatParam = perspective === "all" ? "all" : String(Number(perspective));
    try {
      const fresh = await fetchJson(`/api/replays/${encodeURIComponent(replayId)}?seat=${seatParam}`);
      if (!alive) return;
      const first = !doc;
      doc = fresh;
      container.dataset.loaded = "true";
      container.dataset.perspective = seatParam;
      container.dataset.game = doc.header.game;
      if (first) {
        title.textContent = `${rendererFor(doc.header.game).title}: ${playersText(doc.header.players)}`;
        meta.textContent = `${resultText(doc.header)} · ${new Date(doc.header.started_at).toLocaleString()}`;
        replace(
          perspectiveSelect,
          h("option", { value: "all" }, "All revealed"),
          doc.header.players.map((p) => h("option", { value: String(p.seat) }, p.name)),
        );
        perspectiveSelect.value = seatParam;
        const renderer = rendererFor(doc.header.game);
        // Every seat sees the same board in a game that hides nothing.
        perspectiveField.hidden = !renderer.hiddenInformation;
        const winners = doc.header.result.winners || [];
        replace(
          legend,
          doc.header.players.map((p) =>
            h(
              "li",
              { class: "seat", data: { seat: p.seat } },
              h("span", { class: "swatch", style: `background: ${SEAT_COLORS[p.seat % SEAT_COLORS.length]}`, "aria-hidden": "true" }, renderer.seatLabel ? renderer.seatLabel(p.seat) : ""),
              h("span", { class: "seat-name" }, names()[p.seat]),
              p.kind === "bot" ? h("span", { class: "badge" }, "bot") : null,
              winners.includes(p.seat) ? h("span", { class: "badge badge-playing" }, "winner") : null,
            ),
          ),
        );
        replace(
          moves,
          doc.steps.map((s, i) => h("li", { data: { step: i } }, h("button", { type: "button", class: "linklike", on: { click: () => go(i) } }, i === 0 ? "Start" : `${i}. ${describeStep(s)}`))),
        );
        step = Number(params.get("step") || 0);
      }
      go(step);
    } catch (err) {
      if (!alive) return;
      if (doc) {
        app.showError(err); // another perspective failed; the one shown stays
        return;
      }
      const why = err.code === "not_found"
        ? { title: "Replay not found", text: "There is no finished match with this id: it may still be being played, or the link is wrong." }
        : { title: "This replay cannot be shown", text: sentence(err.message) };
      replace(root, messagePage({ id: "replay-missing", code: err.code, back: { href: "#/replays", label: "All replays" }, ...why }));
    }
  }
  load();

  return () => {
    alive = false;
    stop();
    document.removeEventListener("keydown", onKey);
  };
}
