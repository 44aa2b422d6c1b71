// The browser client's entry point: owns the connection, keeps the latest data per room,
// and routes between screens by the URL hash:
//   #/                lobby            #/room/<id>       a room (play or watch)
//   #/join/<code>     join by invite   #/replays         finished matches
//   #/replays/<id>    replay viewer (optionally ?seat=K|all)
//   #/account         claim your name / your account      #/leaderboard?pool=&board=
//   #/profile/<id>    a player's ratings, history and rated matches

import { Connection } from "./connection.js";
import { TurnAlerts } from "./alerts.js";
import { h, replace, sentence, messagePage } from "./dom.js";
import { mountLobby } from "./lobby.js";
import { mountRoom } from "./room.js";
import { mountReplayList, mountReplayViewer } from "./replays.js";
import { mountAccount, mountLeaderboard, mountProfile } from "./ratings.js";

// Why an invite link leads nowhere, by the server's error code. Private rooms cannot be
// watched (spectate takes only public rooms), so a late visitor gets no Watch button.
const INVITE_FAILURES = {
  room_full: {
    title: "This match has already started",
    text: "Every seat of this private room is taken. Private matches cannot be watched, so there is nothing to open here; ask the players for a rematch invite or start a game of your own.",
  },
  room_not_found: {
    title: "This invite link does not work",
    text: "It leads to no room (any more): the room may have closed. Ask for a new link.",
  },
};

// Long enough to read a sentence twice.
const TOAST_MS = 8000;

export class App extends EventTarget {
  constructor() {
    super();
    this.conn = new Connection();
    this.alerts = new TurnAlerts();
    this.viewEl = document.getElementById("view");
    this.rooms = new Map(); // room_id -> {state, summary, chat: [], over, invite}
    this.mySeats = new Map(); // room_id -> seat held by this player
    this.watching = new Set(); // room_ids this connection spectates
    this.unmount = null;
    this.welcomed = false;
    this.replaced = false;
    this.account = null; // the player's account ({player_id, name, kind}) once registered
    this.newKey = null; // a bot's API key, shown once on the account page
  }

  /** The player has (or changed) an account: show its name in the top bar. */
  setAccount(account) {
    this.account = account || null;
    const el = document.getElementById("player-name");
    if (account) {
      el.textContent = account.name;
      this.conn.rename(account.name);
    }
    el.dataset.account = account ? account.kind : "";
  }

  boot() {
    this.conn.addEventListener("status", (e) => this._showStatus(e.detail));
    this.conn.addEventListener("push", (e) => this._onPush(e.detail));
    this.conn.addEventListener("welcome", (e) => this._onWelcome(e.detail));
    this.conn.addEventListener("replaced", () => {
      this.replaced = true;
      this._showStatus(this.conn.status);
      this.toast("You opened this game in another tab; it continues there. Reload to take it back here.", { code: "replaced" });
    });
    window.addEventListener("hashchange", () => this.route());
    if (this.conn.hasSession()) this._connect(this.conn.name).catch(() => {});
    this._showStatus(this.conn.status);
    this.route();
  }

  /** Room data for `roomId`, created empty when unknown. */
  room(roomId) {
    let data = this.rooms.get(roomId);
    if (!data) {
      data = { state: null, summary: null, chat: [], over: null, invite: null };
      this.rooms.set(roomId, data);
    }
    return data;
  }

  navigate(hash) {
    if (location.hash === hash) this.route();
    else location.hash = hash;
  }

  /** Show a transient message; errors carry their server code in data-code. */
  toast(text, { kind = "error", code = null } = {}) {
    const el = h("div", { class: `toast toast-${kind}`, role: "alert", data: { code } }, text);
    document.getElementById("toasts").appendChild(el);
    setTimeout(() => el.remove(), TOAST_MS);
  }

  /** Report a failed request to the player in plain words. */
  showError(err) {
    this.toast(sentence(err.message || String(err)), { code: err.code || "client_error" });
  }

  /** Resolves once this tab is connected and identified. */
  whenReady() {
    if (this.welcomed) return Promise.resolve();
    return new Promise((resolve) => {
      this.addEventListener("ready", () => resolve(), { once: true });
    });
  }

  async _connect(name, password = null) {
    const result = await this.conn.start(name, password);
    document.getElementById("player-name").textContent = result.name || name;
    return result;
  }

  _onWelcome(result) {
    // The server's list is the truth: a seat may have been freed while we were away.
    this.mySeats.clear();
    for (const ref of result.seats || []) this.mySeats.set(ref.room_id, ref.seat);
    // Spectator places do not survive a reconnect: rooms on screen spectate again.
    this.watching.clear();
    this.welcomed = true;
    document.getElementById("player-name").textContent = result.name || this.conn.name;
    this.setAccount(result.account);
    this.dispatchEvent(new CustomEvent("ready"));
    this.dispatchEvent(new CustomEvent("welcome", { detail: result }));
  }

  _onPush(message) {
    switch (message.type) {
      case "state": {
        const data = this.room(message.room_id);
        if (data.state && data.state.match === message.match && data.state.version > message.version) {
          return; // an older snapshot overtaken by a newer one
        }
        if (!data.state || data.state.match !== message.match) {
          data.over = null;
          data.rating = null;
        }
        data.state = message;
        if (message.seat !== null && message.seat !== undefined) {
          this.mySeats.set(message.room_id, message.seat);
        }
        this._changed(message.room_id);
        break;
      }
      case "room": {
        const roomId = message.room.room_id;
        this.room(roomId).summary = message.room;
        if (message.room.status === "closed") {
          // The last push of a released room: it is gone from this player's games.
          this.mySeats.delete(roomId);
          this.watching.delete(roomId);
        }
        this._changed(roomId);
        break;
      }
      case "chat": {
        // Joining or resuming sends the latest chat again: keep each seq once.
        const chat = this.room(message.room_id).chat;
        const newest = chat.length ? chat[chat.length - 1].seq : -1;
        if (message.seq === undefined || message.seq > newest) {
          chat.push(message);
          if (chat.length > 200) chat.splice(0, chat.length - 200);
          this._changed(message.room_id);
        }
        break;
      }
      case "match_over": {
        this.room(message.room_id).over = message;
        this._changed(message.room_id);
        break;
      }
      case "rating": {
        // A rated match's rating changes (protocol section 18), after its match_over.
        this.room(message.room_id).rating = message;
        this._changed(message.room_id);
        break;
      }
      case "lobby":
        this.dispatchEvent(new CustomEvent("lobby", { detail: message }));
        break;
      case "error":
        this.toast(sentence(message.message || "Server error"), { code: message.code });
        break;
      default:
        break;
    }
  }

  _changed(roomId) {
    this.dispatchEvent(new CustomEvent("roomchange", { detail: roomId }));
  }

  _showStatus(status) {
    const el = document.getElementById("net-status");
    const inSession = this.conn.hasSession() && !this.conn.stopped;
    if (this.replaced) {
      // This tab gave its seats to another tab of the same player; it stays quiet.
      el.dataset.status = "replaced";
      el.textContent = "Playing in another tab";
      el.hidden = false;
      document.getElementById("offline-banner").hidden = true;
      return;
    }
    el.dataset.status = status;
    el.textContent = { online: "Online", connecting: "Connecting…", offline: "Offline" }[status];
    el.hidden = !inSession && status === "offline";
    document.getElementById("offline-banner").hidden = status === "online" || !inSession;
  }

  route() {
    if (this.unmount) {
      this.unmount();
      this.unmount = null;
    }
    const raw = location.hash.replace(/^#\/?/, "");
    const [path, query = ""] = raw.split("?");
    const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
    const params = new URLSearchParams(query);
    const section = ["replays", "leaderboard", "account"].includes(parts[0]) ? parts[0] : "lobby";
    for (const link of document.querySelectorAll("[data-nav]")) {
      link.classList.toggle("active", link.dataset.nav === section);
    }
    if (parts[0] === "replays") {
      this.unmount = parts[1]
        ? mountReplayViewer(this.viewEl, this, parts[1], params)
        : mountReplayList(this.viewEl, this);
      return;
    }
    if (!this.conn.hasSession() || this.conn.stopped) {
      this._askName();
      return;
    }
    if (parts[0] === "room" && parts[1]) this.unmount = mountRoom(this.viewEl, this, parts[1]);
    else if (parts[0] === "account") this.unmount = mountAccount(this.viewEl, this);
    else if (parts[0] === "leaderboard") this.unmount = mountLeaderboard(this.viewEl, this, params);
    else if (parts[0] === "profile" && parts[1]) this.unmount = mountProfile(this.viewEl, this, parts[1]);
    else if (parts[0] === "join" && parts[1]) this._joinInvite(parts[1]);
    else this.unmount = mountLobby(this.viewEl, this);
  }

  async _joinInvite(code) {
    replace(this.viewEl, h("p", { class: "muted" }, "Joining the private room…"));
    try {
      await this.whenReady();
      const result = await this.conn.request("join_room", { invite_code: code });
      this.acceptJoin(result);
    } catch (err) {
      const why = INVITE_FAILURES[err.code];
      if (!why) {
        this.showError(err);
        this.navigate("#/");
        return;
      }
      const back = { href: "#/", label: "Back to the lobby" };
      replace(this.viewEl, messagePage({ id: "join-failed", code: err.code, back, ...why }));
    }
  }

  /** Record a JoinResult (create/join/quick match/spectate) and open its room. */
  acceptJoin(result) {
    const roomId = result.room.room_id;
    const data = this.room(roomId);
    data.summary = result.room;
    if (result.invite_code) data.invite = result.invite_code;
    if (result.seat !== null && result.seat !== undefined) this.mySeats.set(roomId, result.seat);
    else this.watching.add(roomId);
    this.navigate(`#/room/${encodeURIComponent(roomId)}`);
  }

  _askName() {
    const input = h("input", {
      id: "name-input",
      type: "text",
      maxlength: "32",
      autocomplete: "nickname",
      required: true,
      value: this.conn.name || localStorage.getItem("gs.lastName") || "",
      "aria-label": "Your name",
      placeholder: "Your name",
    });
    const password = h("input", {
      id: "password-input",
      type: "password",
      maxlength: "128",
      autocomplete: "current-password",
      "aria-label": "Password (only if you have an account)",
      placeholder: "Password (if you have an account)",
    });
    const error = h("p", { id: "name-error", class: "form-error", role: "alert" });
    const form = h(
      "form",
      {
        id: "name-form",
        class: "card name-card",
        on: {
          submit: async (event) => {
            event.preventDefault();
            const name = input.value.trim();
            if (!name) {
              error.textContent = "Please enter a name.";
              return;
            }
            error.textContent = "";
            const slow = setTimeout(() => {
              error.textContent = "Connecting to the server…";
            }, 1500);
            try {
              await this._connect(name, password.value || null);
              this.route();
            } catch (err) {
              this.conn.forget();
              error.textContent = err.message || "The server refused this name.";
              error.dataset.code = err.code || "";
            } finally {
              clearTimeout(slow);
            }
          },
        },
      },
      h("h1", {}, "Welcome"),
      h("p", { class: "muted" }, "Pick a name to play tic-tac-toe, connect four and liar's dice."),
      h("label", { for: "name-input" }, "Name"),
      h("div", { class: "row" }, input, h("button", { id: "name-submit", type: "submit", class: "primary" }, "Play")),
      h("label", { for: "password-input", class: "muted small" }, "Have an account? Add its password to log in"),
      password,
      error,
      h("p", { class: "muted small" }, h("a", { href: "#/replays" }, "Or watch replays of finished matches")),
    );
    replace(this.viewEl, form);
    input.focus();
  }
}

const app = new App();
window.gameApp = app;
app.boot();
