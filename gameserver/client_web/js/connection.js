// The game connection: one WebSocket speaking the gameserver msgpack protocol (version
// 2, or 1 with a server that predates it), with request/reply matching, server pushes,
// and automatic reconnection that resumes the session (the token lives in
// sessionStorage, so every tab is its own player). On version 2 a room's later states
// arrive as deltas; they leave this module as the same "state" pushes (documents.js).

import { encode, decode } from "../vendor/msgpack/index.mjs";
import { RoomDocuments } from "./documents.js";

// Newest first: the server picks the newest one it speaks.
export const SUBPROTOCOLS = ["gameserver.v2", "gameserver.v1"];
const DELTAS_SUBPROTOCOL = "gameserver.v2";

// Reconnect backoff: start fast (a reload or a blip should resume at once), cap low so a
// player coming back online is not kept waiting long.
const BACKOFF_FIRST_MS = 200;
const BACKOFF_MAX_MS = 4000;

// Requests that are safe to send again with the same id after a reconnect: the server
// applies a move at most once per request id and answers a retry with the first reply.
const RETRY_ON_RECONNECT = new Set(["move"]);

// Close code the server uses when the same player connects again elsewhere.
// docs/protocol.md: a connection replaced by a newer one closes 1000 "resumed elsewhere".
const CLOSE_REPLACED_REASON = "resumed elsewhere";

/** An error reply from the server (or a local failure) with a stable code and a message. */
export class ServerError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

// The browsers and systems a session label names (protocol hello.client_label), first
// match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"], ["Chrome/", "Chrome"], ["Safari/", "Safari"]];
const SYSTEMS = [["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iPadOS"], ["Windows", "Windows"], ["Mac OS", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]];

/** "Firefox on Linux": how this browser shows in the account's session list. */
export function clientLabel(userAgent = navigator.userAgent) {
  const find = (table) => (table.find(([needle]) => userAgent.includes(needle)) || [null, null])[1];
  const browser = find(BROWSERS) || "A browser";
  const system = find(SYSTEMS);
  return system ? `${browser} on ${system}` : browser;
}

function defaultUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws`;
}

/**
 * Events (EventTarget): "status" (detail: "connecting" | "online" | "offline"),
 * "welcome" (detail: the hello result, after every successful (re)connect), and
 * "push" (detail: a server push message, e.g. {type: "state", ...}) and "replaced" (the
 * same player connected in another tab; this one stops).
 * Call start(name) once; then request() as needed. Pushes arrive while online.
 */
export class Connection extends EventTarget {
  constructor({ url = defaultUrl(), storage = window.sessionStorage } = {}) {
    super();
    this.url = url;
    this.storage = storage;
    this.status = "offline";
    this.name = storage.getItem("gs.name") || "";
    this.playerId = null;
    this.ws = null;
    this.pending = new Map(); // id -> {message, resolve, reject, sent}
    this.backoff = BACKOFF_FIRST_MS;
    this.stopped = false;
    this.welcomed = false;
    this.firstWelcome = null;
    this.retryTimer = null;
    this.password = null;
    this.documents = new RoomDocuments();
    this.deltas = 0; // deltas applied (shown as state pushes)
    this.resyncs = 0; // full states asked for after a delta that did not fit
    this._watchNetwork();
  }

  get token() {
    return this.storage.getItem("gs.token");
  }

  /** Has this tab already got a player session (so a reload can resume without asking)? */
  hasSession() {
    return Boolean(this.token && this.name);
  }

  /**
   * Connect as `name` and keep the connection up until stop(). Resolves with the first
   * hello result; rejects with ServerError when the server refuses the name.
   */
  start(name, password = null) {
    this.name = name;
    // A login: the first hello carries the password (never stored); a session is new.
    this.password = password;
    if (password) this.storage.removeItem("gs.token");
    this.storage.setItem("gs.name", name);
    localStorage.setItem("gs.lastName", name);
    this.stopped = false;
    this.firstWelcome = {};
    const promise = new Promise((resolve, reject) => {
      this.firstWelcome.resolve = resolve;
      this.firstWelcome.reject = reject;
    });
    this._open();
    return promise;
  }

  /** The account's name changed: resume under it from now on. */
  rename(name) {
    this.name = name;
    this.storage.setItem("gs.name", name);
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000, "bye");
  }

  /** Forget the session (a new player next time). */
  forget() {
    this.storage.removeItem("gs.token");
    this.storage.removeItem("gs.name");
  }

  // Request ids never repeat for this player, across reconnects and reloads: the server
  // deduplicates moves by (player, id). Starting from the clock keeps even a duplicated
  // tab (which copies sessionStorage) from reusing its twin's ids.
  _nextId() {
    const id = Math.max(Number(this.storage.getItem("gs.nextId") || "0"), Date.now());
    this.storage.setItem("gs.nextId", String(id + 1));
    return id;
  }

  /**
   * Send a request `{type, id, ...fields}`; resolves with the reply's result, rejects with
   * ServerError. Requests made while offline are sent once the session is resumed.
   */
  request(type, fields = {}) {
    const id = this._nextId();
    const message = { ...fields, type, id };
    return new Promise((resolve, reject) => {
      const entry = { message, resolve, reject, sent: false };
      this.pending.set(id, entry);
      if (this.welcomed) this._sendEntry(entry);
    });
  }

  _sendEntry(entry) {
    entry.sent = true;
    this._send(entry.message);
  }

  _send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(encode(message));
  }

  _setStatus(status) {
    if (this.status === status) return;
    this.status = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  _open() {
    this._setStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url, SUBPROTOCOLS);
    } catch (err) {
      this._scheduleReconnect();
      return;
    }
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    this.documents.clear();
    ws.addEventListener("open", () => this._hello());
    ws.addEventListener("message", (event) => this._receive(event.data));
    ws.addEventListener("close", (event) => {
      const replaced = event.code === 1000 && event.reason === CLOSE_REPLACED_REASON;
      if (replaced && this.ws === ws) {
        // This player connected again in another tab: that tab has the seat now.
        this.stopped = true;
        this.dispatchEvent(new CustomEvent("replaced"));
      }
      this._dropped(ws);
    });
  }

  /** The socket `ws` is gone (closed, or the browser went offline): go offline, retry. */
  _dropped(ws) {
    if (this.ws !== ws) return;
    this.ws = null;
    this.welcomed = false;
    this._failUnsent();
    this._setStatus("offline");
    if (!this.stopped) this._scheduleReconnect();
  }

  _scheduleReconnect() {
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped && !this.ws) this._open();
    }, delay);
  }

  // The browser knows about network loss before TCP does: drop the socket at once, and
  // reconnect as soon as the network is back instead of waiting out the backoff.
  _watchNetwork() {
    window.addEventListener("offline", () => {
      const ws = this.ws;
      if (!ws) return;
      this._dropped(ws);
      try {
        ws.close();
      } catch (err) {
        // already closing
      }
    });
    window.addEventListener("online", () => {
      if (this.stopped || this.ws) return;
      clearTimeout(this.retryTimer);
      this.backoff = BACKOFF_FIRST_MS;
      this._open();
    });
  }

  // Requests already on the wire when the connection dropped: retry the idempotent ones,
  // fail the rest so the caller can tell the player.
  _failUnsent() {
    for (const [id, entry] of this.pending) {
      if (entry.sent && !RETRY_ON_RECONNECT.has(entry.message.type)) {
        this.pending.delete(id);
        entry.reject(new ServerError("disconnected", "The connection was lost; please try again."));
      }
    }
  }

  _hello() {
    const id = this._nextId();
    const hello = { type: "hello", id, name: this.name, client_label: clientLabel() };
    const token = this.token;
    if (token) hello.token = token;
    else if (this.password) hello.password = this.password;
    this.pending.set(id, {
      message: hello,
      sent: true,
      resolve: (result) => this._welcome(result),
      reject: (err) => {
        if (err.code === "bad_token") {
          // The server does not know this session any more: start a fresh one.
          this.storage.removeItem("gs.token");
          this._hello();
        } else if (this.firstWelcome) {
          this.stopped = true;
          this.firstWelcome.reject(err);
          this.firstWelcome = null;
          if (this.ws) this.ws.close(1000, "refused");
        } else {
          this.dispatchEvent(new CustomEvent("push", { detail: { type: "error", code: err.code, message: err.message } }));
        }
      },
    });
    this._send(hello);
  }

  _welcome(result) {
    this.password = null; // the token resumes from now on
    if (result.token) this.storage.setItem("gs.token", result.token);
    this.playerId = result.player_id ?? null;
    this.sessionId = result.session_id ?? null;
    this.backoff = BACKOFF_FIRST_MS;
    this.welcomed = true;
    this._setStatus("online");
    for (const entry of this.pending.values()) {
      if (!entry.sent || RETRY_ON_RECONNECT.has(entry.message.type)) this._sendEntry(entry);
    }
    this.dispatchEvent(new CustomEvent("welcome", { detail: result }));
    if (this.firstWelcome) {
      this.firstWelcome.resolve(result);
      this.firstWelcome = null;
    }
  }

  _receive(data) {
    let message;
    try {
      message = decode(new Uint8Array(data));
    } catch (err) {
      console.error("undecodable message from server", err);
      return;
    }
    if (!message || typeof message !== "object") return;
    const deltas = Boolean(this.ws && this.ws.protocol === DELTAS_SUBPROTOCOL);
    if (Array.isArray(message)) {
      if (deltas) this._delta(message);
      return;
    }
    if (deltas && message.type === "state") this.documents.hold(message);
    const id = message.id;
    if ((message.type === "reply" || message.type === "error") && id !== null && id !== undefined) {
      const entry = this.pending.get(id);
      if (!entry) return;
      this.pending.delete(id);
      if (message.type === "reply") entry.resolve(message.result ?? {});
      else entry.reject(new ServerError(message.code, message.message));
      return;
    }
    this.dispatchEvent(new CustomEvent("push", { detail: message }));
  }

  // A delta (protocol version 2): shown as the room's new state; one carrying an id is
  // also the reply to that move, whether or not its ops applied (the move did).
  _delta(delta) {
    const { state, sync } = this.documents.apply(delta);
    if (state) {
      this.deltas += 1;
      this.dispatchEvent(new CustomEvent("push", { detail: state }));
    }
    if (sync) this._sync(sync);
    const id = delta[5];
    const entry = id === undefined ? null : this.pending.get(id);
    if (entry) {
      this.pending.delete(id);
      entry.resolve({ version: delta[2] });
    }
  }

  // Ask for a full state of a room whose delta did not fit. Nothing waits for the reply:
  // the state the server pushes first is what counts.
  _sync(roomId) {
    this.resyncs += 1;
    const id = this._nextId();
    const message = { type: "sync", id, room_id: roomId };
    this.pending.set(id, { message, sent: true, resolve: () => {}, reject: () => {} });
    this._send(message);
  }
}
