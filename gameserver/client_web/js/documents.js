// Protocol version 2 (docs/protocol.md, "Deltas"): the document this connection holds of
// each room, and the deltas that update it. A full `state` starts a room's document;
// each delta [room_id, base, version, cause, ops, id?] applies to it when its base is the
// version held, and comes out as the same `state` message a full state would have been,
// so the rest of the client never sees a delta.
//
// A delta carrying a move's id that does not fit is the stored answer to a resent move:
// it is the reply only, and the document stays as it is. Any other delta that does not
// fit (another base, or ops that throw) drops the room's document: the connection then
// sends `sync` once and ignores the room's deltas until the full state that answers it.

import { applyOps, documentOf, legalMovesOf, DeltaError } from "./delta.js";

export class RoomDocuments {
  constructor() {
    this.held = new Map(); // room_id -> {match, seat, version, document}
    this.dropped = new Set(); // room_ids waiting for a full state
  }

  /** A full `state` push arrived: it starts (or restarts) the room's document. */
  hold(state) {
    this.held.set(state.room_id, {
      match: state.match,
      seat: state.seat ?? null,
      version: state.version,
      document: documentOf(state),
    });
    this.dropped.delete(state.room_id);
  }

  /**
   * Apply one delta. Returns {state} with the room's new `state` message, {sync: room_id}
   * when the caller must now ask for a full state, or {} when there is nothing to do.
   */
  apply([roomId, base, version, , ops, id]) {
    const held = this.held.get(roomId);
    if (!held || base !== held.version) return id === undefined ? this._drop(roomId) : {};
    let document;
    try {
      document = applyOps(held.document, ops);
    } catch (err) {
      if (err instanceof DeltaError) return this._drop(roomId);
      throw err;
    }
    held.version = version;
    held.document = document;
    return {
      state: {
        type: "state",
        room_id: roomId,
        match: held.match,
        version,
        seat: held.seat,
        view: document.view,
        to_act: document.to_act,
        legal_moves: legalMovesOf(document, held.seat),
        seats: document.seats,
        clock: document.clock,
        outcome: document.outcome,
      },
    };
  }

  /** The connection ended: the next one starts again from full states. */
  clear() {
    this.held.clear();
    this.dropped.clear();
  }

  _drop(roomId) {
    this.held.delete(roomId);
    if (this.dropped.has(roomId)) return {};
    this.dropped.add(roomId);
    return { sync: roomId };
  }
}
