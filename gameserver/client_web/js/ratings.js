// Accounts and ratings: the account page (claim your name, rename, bot keys, sessions), the
// leaderboards and a player's profile with an SVG rating-history chart. All data comes
// over the game connection (protocol section 18).

import { h, replace, sentence } from "./dom.js";
import { rendererFor } from "../games/index.js";

// Ratings above this deviation are provisional (protocol section 18): shown with a "?".
const PROVISIONAL_MARK = "?";
// The games the leaderboard offers, with the seat counts that have a pool of their own.
const POOLS = [
  { game: "connect4", players: 2 },
  { game: "tictactoe", players: 2 },
  { game: "liarsdice", players: 2 },
  { game: "liarsdice", players: 3 },
  { game: "liarsdice", players: 4 },
];

/** A rating as the page shows it: rounded, with "?" while provisional. */
export function ratingText(rating, provisional) {
  return `${Math.round(rating)}${provisional ? PROVISIONAL_MARK : ""}`;
}

function poolLabel(pool) {
  const [game, seats] = pool.split("-");
  const title = rendererFor(game).title;
  return seats ? `${title} (${seats.replace("p", "")} players)` : title;
}

function loading(root, id) {
  replace(root, h("section", { id, class: "card", data: { loaded: "false" } }, h("p", { class: "muted" }, "Loading…")));
}

// -- account page ---------------------------------------------------------------------

export function mountAccount(root, app) {
  const draw = () => {
    const account = app.account;
    replace(root, account ? accountCard(app, account, draw) : registerCard(app, draw));
  };
  app.whenReady().then(draw);
  loading(root, "account");
  return () => {};
}

function registerCard(app, draw) {
  const password = h("input", { id: "register-password", type: "password", autocomplete: "new-password", minlength: "8", maxlength: "128", required: true });
  const bot = h("input", { id: "register-bot", type: "checkbox" });
  const error = h("p", { id: "register-error", class: "form-error", role: "alert" });
  return h(
    "form",
    {
      id: "register-form",
      class: "card",
      on: {
        submit: async (event) => {
          event.preventDefault();
          error.textContent = "";
          try {
            const result = await app.conn.request("register", { password: password.value, bot: bot.checked });
            app.setAccount(result.account);
            app.newKey = result.api_key || null;
            draw();
          } catch (err) {
            error.textContent = sentence(err.message);
            error.dataset.code = err.code || "";
          }
        },
      },
    },
    h("h2", {}, "Keep your name"),
    h("p", { class: "muted" }, `Claim “${app.conn.name}” as an account with a password: log in from any device, play rated games and appear on the leaderboards.`),
    h("label", { for: "register-password" }, "Password (at least 8 characters)"),
    password,
    h("label", { class: "check" }, bot, " This account is for a bot program (it gets an API key)"),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary", id: "register-submit" }, "Create account")),
    error,
  );
}

function accountCard(app, account, draw) {
  const name = h("input", { id: "rename-input", type: "text", maxlength: "32", value: account.name });
  const error = h("p", { id: "account-error", class: "form-error", role: "alert" });
  const key = app.newKey;
  app.newKey = null; // shown once
  return h(
    "section",
    { id: "account", class: "card", data: { kind: account.kind, loaded: "true" } },
    h("h2", {}, "Your account"),
    h("p", {}, "Logged in as ", h("strong", { id: "account-name" }, account.name), account.kind === "bot" ? " (bot)" : ""),
    key ? h("p", { id: "api-key" }, "API key (shown only now, copy it): ", h("code", {}, key)) : null,
    h("p", {}, h("a", { id: "my-profile", href: `#/profile/${encodeURIComponent(account.player_id)}` }, "Your profile and rating history")),
    h(
      "form",
      {
        id: "rename-form",
        on: {
          submit: async (event) => {
            event.preventDefault();
            try {
              const result = await app.conn.request("rename", { name: name.value });
              app.setAccount(result.account);
              draw();
            } catch (err) {
              error.textContent = sentence(err.message);
              error.dataset.code = err.code || "";
            }
          },
        },
      },
      h("label", { for: "rename-input" }, "Change your name"),
      h("div", { class: "row" }, name, h("button", { type: "submit" }, "Rename")),
    ),
    error,
    sessionsList(app),
  );
}

// The account's signed-in sessions (protocol list_sessions), each with a button that
// signs it out (revoke_session). Signing out this tab's own session ends it here too.
function sessionsList(app) {
  const list = h("ul", { id: "sessions-list" });
  const section = h("section", { id: "sessions", data: { loaded: "false" } }, h("h3", {}, "Where you are signed in"), list);
  const load = async () => {
    try {
      const result = await app.conn.request("list_sessions");
      replace(list, ...result.sessions.map((session) => sessionRow(app, session, load)));
      section.dataset.loaded = "true";
    } catch (err) {
      app.showError(err);
    }
  };
  load();
  return section;
}

function sessionRow(app, session, reload) {
  const used = new Date(session.last_used_at).toLocaleString();
  const signOut = async () => {
    try {
      await app.conn.request("revoke_session", { session_id: session.session_id });
    } catch (err) {
      app.showError(err);
      return;
    }
    if (!session.current) {
      reload();
      return;
    }
    // The server closes this connection ("logged out"): start over as a new visitor.
    app.conn.stop();
    app.conn.forget();
    location.hash = "#/";
    location.reload();
  };
  return h(
    "li",
    { data: { sessionId: session.session_id, current: String(session.current) } },
    h("strong", {}, session.label || "Unnamed client"),
    session.current ? " (this tab)" : "",
    h("span", { class: "muted small" }, ` ${session.address}, last used ${used} `),
    h("button", { type: "button", "data-action": "sign-out", on: { click: signOut } }, "Sign out"),
  );
}

// -- leaderboards -----------------------------------------------------------------------

export function mountLeaderboard(root, app, params) {
  const pool = POOLS.find((p) => `${p.game}-${p.players}` === params.get("pool")) || POOLS[0];
  const board = ["all", "humans", "bots"].includes(params.get("board")) ? params.get("board") : "all";
  let gone = false;
  loading(root, "leaderboard");
  const go = (nextPool, nextBoard) => app.navigate(`#/leaderboard?pool=${nextPool}&board=${nextBoard}`);
  app.whenReady()
    .then(() => app.conn.request("leaderboard", { game: pool.game, players: pool.players, board, limit: 100 }))
    .then((result) => {
      if (gone) return;
      const poolSelect = h(
        "select",
        { id: "leaderboard-pool", "aria-label": "Game", on: { change: () => go(poolSelect.value, boardSelect.value) } },
        POOLS.map((p) => h("option", { value: `${p.game}-${p.players}`, selected: p === pool }, poolLabel(p.players === 2 ? p.game : `${p.game}-${p.players}p`))),
      );
      const boardSelect = h(
        "select",
        { id: "leaderboard-board", "aria-label": "Players", on: { change: () => go(poolSelect.value, boardSelect.value) } },
        [["all", "Everyone"], ["humans", "Humans"], ["bots", "Bots"]].map(([value, label]) => h("option", { value, selected: value === board }, label)),
      );
      const rows = result.entries.map((e) =>
        h(
          "tr",
          { data: { playerId: e.player_id, kind: e.kind, provisional: String(e.provisional) } },
          h("td", { class: "num" }, String(e.rank)),
          h("td", {}, h("a", { href: `#/profile/${encodeURIComponent(e.player_id)}` }, e.name), e.kind === "bot" ? h("span", { class: "badge" }, "bot") : null),
          h("td", { class: "num", title: `deviation ${Math.round(e.deviation)}` }, ratingText(e.rating, e.provisional)),
          h("td", { class: "num" }, `${e.wins} / ${e.draws} / ${e.losses}`),
        ),
      );
      replace(
        root,
        h(
          "section",
          { id: "leaderboard", class: "card", data: { loaded: "true", pool: result.pool } },
          h("h2", {}, "Leaderboard"),
          h("div", { class: "row" }, poolSelect, boardSelect),
          rows.length
            ? h("table", { class: "rooms" },
                h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, "Player"), h("th", {}, "Rating"), h("th", {}, "W / D / L"))),
                h("tbody", {}, rows))
            : h("p", { class: "muted", id: "leaderboard-empty" }, "No rated games yet."),
          h("p", { class: "muted small" }, `${PROVISIONAL_MARK} marks a provisional rating (too few games to be sure).`),
        ),
      );
    })
    .catch((err) => app.showError(err));
  return () => {
    gone = true;
  };
}

// -- profiles -------------------------------------------------------------------------------

export function mountProfile(root, app, playerId) {
  let gone = false;
  loading(root, "profile");
  app.whenReady()
    .then(() => app.conn.request("profile", { player_id: playerId }))
    .then((profile) => {
      if (!gone) replace(root, profileCard(profile));
    })
    .catch((err) => app.showError(err));
  return () => {
    gone = true;
  };
}

function profileCard(profile) {
  const account = profile.account;
  return h(
    "section",
    { id: "profile", class: "card", data: { loaded: "true", playerId: account.player_id, kind: account.kind } },
    h("h2", { id: "profile-name" }, account.name, account.kind === "bot" ? h("span", { class: "badge" }, "bot") : null),
    profile.ratings.length
      ? h("table", { class: "rooms", id: "profile-ratings" },
          h("thead", {}, h("tr", {}, h("th", {}, "Game"), h("th", {}, "Rating"), h("th", {}, "W / D / L"))),
          h("tbody", {}, profile.ratings.map((r) =>
            h("tr", { data: { pool: r.pool, provisional: String(r.provisional) } },
              h("td", {}, poolLabel(r.pool)),
              h("td", { class: "num", title: `deviation ${Math.round(r.deviation)}` }, ratingText(r.rating, r.provisional)),
              h("td", { class: "num" }, `${r.wins} / ${r.draws} / ${r.losses}`)))))
      : h("p", { class: "muted" }, "No rated games yet."),
    profile.history.length ? historyChart(profile.history) : null,
    profile.recent.length
      ? h("div", {},
          h("h3", {}, "Recent rated matches"),
          h("ul", { id: "profile-matches", class: "match-list" }, profile.recent.map((m) =>
            h("li", { data: { matchId: m.match_id, result: m.result } },
              `${poolLabel(m.pool)}: ${m.result} · ${Math.round(m.rating_before)} → ${Math.round(m.rating_after)} · ${new Date(m.at).toLocaleString()} `,
              h("a", { href: `#/replays/${encodeURIComponent(m.match_id)}`, data: { action: "replay" } }, "replay")))))
      : null,
  );
}

// Chart size in SVG user units; the SVG scales to its container.
const CHART_W = 600;
const CHART_H = 200;
const PAD = 30;
const LINE_COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c"];

/** The rating history as an inline SVG: one polyline per pool, rating on the y axis. */
function historyChart(history) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("id", "rating-chart");
  svg.setAttribute("viewBox", `0 0 ${CHART_W} ${CHART_H}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Rating history");
  svg.setAttribute("class", "rating-chart");
  const ratings = history.map((p) => p.rating);
  const low = Math.floor((Math.min(...ratings) - 20) / 50) * 50;
  const high = Math.ceil((Math.max(...ratings) + 20) / 50) * 50;
  const x = (i) => PAD + (history.length === 1 ? (CHART_W - 2 * PAD) / 2 : (i * (CHART_W - 2 * PAD)) / (history.length - 1));
  const y = (r) => CHART_H - PAD - ((r - low) * (CHART_H - 2 * PAD)) / (high - low);
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el);
    return el;
  };
  for (const r of [low, high]) {
    add("line", { x1: PAD, x2: CHART_W - PAD, y1: y(r), y2: y(r), stroke: "#ccc" });
    add("text", { x: 2, y: y(r) + 4, "font-size": 11, fill: "#666" }, String(r));
  }
  const pools = [...new Set(history.map((p) => p.pool))];
  pools.forEach((pool, index) => {
    const points = history.map((p, i) => [p, i]).filter(([p]) => p.pool === pool);
    const color = LINE_COLORS[index % LINE_COLORS.length];
    add("polyline", { points: points.map(([p, i]) => `${x(i)},${y(p.rating)}`).join(" "), fill: "none", stroke: color, "stroke-width": 2, "data-pool": pool });
    for (const [p, i] of points) {
      const dot = add("circle", { cx: x(i), cy: y(p.rating), r: 3, fill: color, "data-match-id": p.match_id });
      const title = document.createElementNS(ns, "title");
      title.textContent = `${poolLabel(pool)}: ${Math.round(p.rating)}`;
      dot.appendChild(title);
    }
  });
  return h("figure", { class: "chart" }, svg, h("figcaption", { class: "muted small" }, "Rating after each rated match"));
}
