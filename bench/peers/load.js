// Load generator for bench/peers.py: M connect-four matches played at once against a
// Colyseus or boardgame.io server, every player its own client of that server's own
// client library (colyseus.js, boardgame.io/client over socket.io's WebSocket transport).
//
//   node load.js --system colyseus|bgio --port P --server-pid PID --matches M
//                [--think S] [--seconds S] [--warmup S] [--idle S] [--seed N]
//
// 1. Every match is created and both players seated; nobody moves yet. After --idle
//    seconds the server's RSS growth over its RSS before the first client, divided by
//    the clients, is the idle RSS per client.
// 2. Then everybody plays: a player whose turn it is picks a random legal column (one
//    seeded generator per player) and sends it at once, or with --think after a pause
//    drawn uniformly from 0.5 to 1.5 times S. A finished match is followed by a rematch
//    on the same connections. After --warmup seconds (plus 3 think times) a window of
//    --seconds is measured: moves completed in it (the mover has received the state its
//    move produced), the latency of each (from sending the move to that state), the
//    server's CPU time (utime + stime, from /proc/PID/stat) and the bytes its TCP
//    connections sent (`ss -ti` bytes_sent, per connection open through the window).
// Prints one JSON object on stdout.

"use strict";

const fs = require("fs");
const { execFileSync } = require("child_process");
const { legalColumns } = require("./rules");

function parseArgs(argv) {
  const args = { think: 0, seconds: 10, warmup: 1, idle: 2, seed: 1, concurrency: 20 };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "").replace(/-(\w)/g, (_, c) => c.toUpperCase());
    const value = argv[i + 1];
    args[key] = key === "system" ? value : Number(value);
  }
  if (!["colyseus", "bgio"].includes(args.system) || !args.port || !args.serverPid || !args.matches) {
    console.error("usage: node load.js --system colyseus|bgio --port P --server-pid PID --matches M [...]");
    process.exit(2);
  }
  return args;
}

// --- measuring the server from /proc -------------------------------------------------

const TICKS = 100; // USER_HZ: clock ticks per second on Linux

function serverCpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Bytes sent so far by each of the server's established connections on `port`, by peer
 * address, from the kernel's socket statistics (as tcp_bytes_sent in bench/rawws.py). */
function tcpBytesSent(port) {
  const listing = execFileSync("ss", ["-tinH", "state", "established", `( sport = :${port} )`], {
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  const sent = new Map();
  for (const match of listing.matchAll(/(\S+)\s*\n\s+[^\n]*?\bbytes_sent:(\d+)/g)) sent.set(match[1], Number(match[2]));
  return sent;
}

/** Bytes sent between two readings by the connections open at both (a closed HTTP
 * connection of the matchmaking or the lobby has no later reading). */
function bytesSentBetween(before, after) {
  let total = 0;
  for (const [peer, sent] of before) if (after.has(peer)) total += after.get(peer) - sent;
  return total;
}

function serverRssKib(pid) {
  const match = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match[1]);
}

// --- players ---------------------------------------------------------------------------

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What every player does, whatever the system: decide when it may move, time its moves. */
class Player {
  constructor(run, index) {
    this.run = run;
    this.random = mulberry32(run.args.seed * 100003 + index);
    this.pending = -1; // the version our move will produce, until we see it
    this.sentAt = 0;
    this.acted = -1; // the version we last moved (or asked a rematch) on
    this.seated = false;
  }

  /** Called with every state the player's client reports (a plain summary). */
  onState(view) {
    if (!view.started) return;
    if (!this.seated) {
      this.seated = true;
      this.run.seatedCount++;
    }
    this.latest = view;
    if (this.pending >= 0 && view.version >= this.pending) {
      this.run.completed(this.sentAt);
      this.pending = -1;
    }
    if (this.run.playing) this.act(view);
  }

  act(view) {
    if (view.version === this.acted || this.pending >= 0) return;
    if (view.outcome) {
      if (view.mayRematch) {
        this.acted = view.version;
        this.send(() => this.rematch(), false);
      }
      return;
    }
    if (!view.myTurn) return;
    this.acted = view.version;
    const legal = legalColumns(view.cells);
    const column = legal[Math.floor(this.random() * legal.length)];
    this.pending = view.version + 1;
    this.send(() => {
      this.sentAt = performance.now();
      this.move(column);
    }, true);
  }

  send(action, isMove) {
    const think = this.run.args.think;
    if (think > 0 && isMove) setTimeout(action, think * 1000 * (0.5 + this.random()));
    else action();
  }

  start() {
    if (this.latest) this.act(this.latest);
  }
}

// --- Colyseus (colyseus.js) --------------------------------------------------------------

class ColyseusPlayer extends Player {
  async join(roomId) {
    const { Client } = require("colyseus.js");
    const client = new Client(`ws://127.0.0.1:${this.run.args.port}`);
    this.room = roomId ? await client.joinById(roomId) : await client.create("connect4");
    this.room.onMessage("error", (reason) => this.run.fail(`refused: ${reason}`));
    this.room.onError((code, message) => this.run.fail(`room error ${code} ${message}`));
    this.room.onStateChange((state) => this.onState(this.view(state)));
    return this.room.roomId;
  }

  view(state) {
    const seat = state.seats.indexOf(this.room.sessionId);
    return {
      started: state.seats.length === 2,
      version: state.version,
      cells: state.cells,
      outcome: state.outcome !== -1,
      myTurn: state.turn === seat,
      mayRematch: true, // both players vote
    };
  }

  move(column) {
    this.room.send("move", column);
  }

  rematch() {
    this.room.send("rematch");
  }
}

async function seatColyseus(run, index) {
  const first = new ColyseusPlayer(run, 2 * index);
  const second = new ColyseusPlayer(run, 2 * index + 1);
  await second.join(await first.join(null));
  return [first, second];
}

// --- boardgame.io (boardgame.io/client over socket.io) ----------------------------------

class BgioPlayer extends Player {
  join(matchID, playerID, credentials) {
    const { Client } = require("boardgame.io/client");
    const { SocketIO } = require("boardgame.io/multiplayer");
    const { Connect4 } = require("./bgio-game");
    this.playerID = playerID;
    this.client = Client({
      game: Connect4,
      numPlayers: 2,
      matchID,
      playerID,
      credentials,
      debug: false,
      multiplayer: SocketIO({
        server: `http://127.0.0.1:${this.run.args.port}`,
        socketOpts: { transports: ["websocket"] },
      }),
    });
    this.client.subscribe((state) => state && this.onState(this.view(state)));
    this.client.start();
  }

  view(state) {
    return {
      started: state.isConnected && state._stateID >= 0,
      version: state._stateID,
      cells: state.G.cells,
      outcome: state.G.outcome !== null,
      myTurn: state.ctx.currentPlayer === this.playerID,
      mayRematch: state.ctx.currentPlayer === this.playerID, // one move by whoever is to move
    };
  }

  move(column) {
    this.client.moves.drop(column);
  }

  rematch() {
    this.client.moves.rematch();
  }
}

async function lobby(run, path, body) {
  const response = await fetch(`http://127.0.0.1:${run.args.port}/games/connect4${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`lobby ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function seatBgio(run, index) {
  // The Lobby API is boardgame.io's documented way to create a match and take seats.
  const { matchID } = await lobby(run, "/create", { numPlayers: 2 });
  const players = [];
  for (const playerID of ["0", "1"]) {
    const { playerCredentials } = await lobby(run, `/${matchID}/join`, { playerID, playerName: `p${2 * index + Number(playerID)}` });
    const player = new BgioPlayer(run, 2 * index + Number(playerID));
    player.join(matchID, playerID, playerCredentials);
    players.push(player);
  }
  return players;
}

// --- the run ---------------------------------------------------------------------------

class Run {
  constructor(args) {
    this.args = args;
    this.players = [];
    this.seatedCount = 0;
    this.playing = false;
    this.measuring = false;
    this.windowStart = Infinity;
    this.latencies = [];
    this.moves = 0;
  }

  completed(sentAt) {
    if (this.measuring) {
      this.latencies.push(performance.now() - sentAt);
      this.moves++;
    }
  }

  fail(why) {
    console.error(why);
    process.exit(1);
  }

  async seatAll() {
    const seat = this.args.system === "colyseus" ? seatColyseus : seatBgio;
    let next = 0;
    const worker = async () => {
      while (next < this.args.matches) {
        const index = next++;
        for (let attempt = 1; ; attempt++) {
          try {
            this.players.push(...(await seat(this, index)));
            break;
          } catch (error) {
            // A busy machine can drop a matchmaking or lobby request: try that match again.
            if (attempt === 3) throw error;
            await sleep(200 * attempt);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: this.args.concurrency }, worker));
    const deadline = Date.now() + 60000;
    while (this.seatedCount < 2 * this.args.matches) {
      if (Date.now() > deadline) this.fail(`only ${this.seatedCount} players seated`);
      await sleep(20);
    }
  }
}

function percentile(sorted, pct) {
  if (!sorted.length) return NaN;
  const rank = Math.max(1, Math.ceil((sorted.length * pct) / 100));
  return sorted[rank - 1];
}

async function main() {
  const args = parseArgs(process.argv);
  const pid = args.serverPid;
  const run = new Run(args);
  const rssBefore = serverRssKib(pid);
  await run.seatAll();
  await sleep(args.idle * 1000);
  const rssIdle = serverRssKib(pid);
  run.playing = true;
  for (const player of run.players) player.start();
  await sleep((args.warmup + 3 * args.think) * 1000);
  const cpuBefore = serverCpuSeconds(pid);
  const sentBefore = tcpBytesSent(args.port);
  const ownBefore = process.cpuUsage();
  run.windowStart = performance.now();
  run.measuring = true;
  await sleep(args.seconds * 1000);
  run.measuring = false;
  const wall = (performance.now() - run.windowStart) / 1000;
  const cpu = serverCpuSeconds(pid) - cpuBefore;
  const sent = bytesSentBetween(sentBefore, tcpBytesSent(args.port));
  const own = process.cpuUsage(ownBefore);
  const rssEnd = serverRssKib(pid);
  run.latencies.sort((a, b) => a - b);
  const moves = Math.max(1, run.moves);
  process.stdout.write(JSON.stringify({
    system: args.system,
    matches: args.matches,
    think: args.think,
    moves: run.moves,
    moves_per_second: run.moves / wall,
    p50: percentile(run.latencies, 50),
    p99: percentile(run.latencies, 99),
    server_cpu: cpu / wall,
    server_cpu_per_move_us: (cpu / moves) * 1e6,
    sent_per_move: sent / moves,
    load_cpu: (own.user + own.system) / 1e6 / wall,
    idle_rss_per_client_kib: (rssIdle - rssBefore) / (2 * args.matches),
    rss_mib: rssEnd / 1024,
  }) + "\n", () => process.exit(0));
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : error);
  process.exit(1);
});
