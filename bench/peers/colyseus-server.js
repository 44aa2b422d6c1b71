// Colyseus 0.16 server with one room type, "connect4", for bench/peers.py.
//
//   node colyseus-server.js PORT [default|immediate]
//
// "default": Colyseus sends state patches at its default patch rate (every 50 ms).
// "immediate": the patch timer is off (`patchRate = null`) and the room calls
// `broadcastPatch()` after each change, so a move's patch leaves at once.
// Prints "ready PORT" once it listens.

"use strict";

const { Server, Room } = require("@colyseus/core");
const { WebSocketTransport } = require("@colyseus/ws-transport");
const { Schema, ArraySchema, defineTypes } = require("@colyseus/schema");
const { WIDTH, HEIGHT, landingRow, connectsFour } = require("./rules");

const NO_OUTCOME = -1;
const DRAW = 2;

class MatchState extends Schema {
  constructor() {
    super();
    this.cells = new ArraySchema(...new Array(WIDTH * HEIGHT).fill(0));
    this.seats = new ArraySchema(); // session ids, seat 0 first
    this.turn = 0; // the seat to move
    this.version = 0; // changes made to the room's match state so far
    this.match = 0; // matches started in this room
    this.outcome = NO_OUTCOME; // -1 playing, 0 or 1 the winning seat, 2 a draw
  }
}
defineTypes(MatchState, {
  cells: ["uint8"],
  seats: ["string"],
  turn: "uint8",
  version: "uint32",
  match: "uint16",
  outcome: "int8",
});

class Connect4Room extends Room {
  onCreate(options) {
    this.maxClients = 2;
    this.state = new MatchState();
    this.immediate = Boolean(options.immediate);
    if (this.immediate) this.patchRate = null;
    this.firstSeat = 0;
    this.filled = 0;
    this.votes = new Set();
    this.onMessage("move", (client, column) => this.onMove(client, column));
    this.onMessage("rematch", (client) => this.onRematch(client));
  }

  onJoin(client) {
    this.state.seats.push(client.sessionId);
    this.changed();
  }

  onMove(client, column) {
    const state = this.state;
    const seat = state.seats.indexOf(client.sessionId);
    if (state.seats.length < 2 || state.outcome !== NO_OUTCOME || seat !== state.turn) {
      client.send("error", "not your turn");
      return;
    }
    const row = Number.isInteger(column) && column >= 0 && column < WIDTH ? landingRow(state.cells, column) : -1;
    if (row < 0) {
      client.send("error", "illegal move");
      return;
    }
    state.cells[row * WIDTH + column] = seat + 1;
    this.filled++;
    if (connectsFour(state.cells, row, column)) state.outcome = seat;
    else if (this.filled === WIDTH * HEIGHT) state.outcome = DRAW;
    else state.turn = 1 - seat;
    state.version++;
    this.changed();
  }

  onRematch(client) {
    // As in gameserver: once both players ask, the next match starts with the seat
    // that moved second in this one to move first.
    if (this.state.outcome === NO_OUTCOME) return;
    this.votes.add(client.sessionId);
    if (this.votes.size < 2) return;
    this.votes.clear();
    const state = this.state;
    for (let i = 0; i < WIDTH * HEIGHT; i++) if (state.cells[i]) state.cells[i] = 0;
    this.filled = 0;
    this.firstSeat = 1 - this.firstSeat;
    state.turn = this.firstSeat;
    state.outcome = NO_OUTCOME;
    state.match++;
    state.version++;
    this.changed();
  }

  changed() {
    if (this.immediate) this.broadcastPatch();
  }
}

async function main() {
  const port = Number(process.argv[2]);
  const immediate = process.argv[3] === "immediate";
  const server = new Server({ transport: new WebSocketTransport(), greet: false });
  server.define("connect4", Connect4Room, { immediate });
  await server.listen(port, "127.0.0.1");
  console.log(`ready ${port}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
