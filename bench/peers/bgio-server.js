// boardgame.io 0.50 server with the connect-four game of ./bgio-game.js, for bench/peers.py.
//
//   node bgio-server.js PORT
//
// The stock server: in-memory storage, the Lobby API and socket.io on one port.
// Prints "ready PORT" once it listens.

"use strict";

const { Server } = require("boardgame.io/server");
const { Connect4 } = require("./bgio-game");

const port = Number(process.argv[2]);
const server = Server({ games: [Connect4], origins: ["http://127.0.0.1"] });
server.run({ port }, () => console.log(`ready ${port}`));
