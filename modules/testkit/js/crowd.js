// Many viewers in one Node process, each with an official client that comes back when its connection ends, as
// a page's viewer does: socket.io-client reconnects by itself (and is told to after the server's goodbye); a SockJS viewer opens a new SockJS after 100 ms.
// Usage: node crowd.js socketio <base url> <count> <options as JSON>   (io(url, options))
//        node crowd.js sockjs <url> <count> <options as JSON>          (new SockJS(url, null, options))
// Prints JSON lines, each with the viewer's index i: open, close, error, event (name, data). Ends when stdin ends.
"use strict";
const { out, commands } = require("./lines");

const [kind, url, count, options] = process.argv.slice(2);
const opts = JSON.parse(options || "{}");

function socketIo(i) {
  const { io } = require("socket.io-client");
  const socket = io(url, { ...opts, forceNew: true });
  socket.on("connect", () => out({ i, type: "open", transport: socket.io.engine.transport.name }));
  socket.on("disconnect", (reason) => {
    out({ i, type: "close", reason });
    // a replica that stops says goodbye with a Socket.IO disconnect, after which the client waits to be told
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 100);
  });
  socket.on("connect_error", (err) => out({ i, type: "error", message: String(err && err.message) }));
  socket.onAny((name, ...args) => out({ i, type: "event", name, data: args.length === 0 ? null : args[0] }));
}

function sockJs(i) {
  const SockJS = require("sockjs-client");
  const open = () => {
    const sock = new SockJS(url, null, opts);
    sock.onopen = () => out({ i, type: "open", transport: sock.transport });
    sock.onmessage = (message) => {
      const frame = JSON.parse(message.data);
      out({ i, type: "event", name: frame.event, data: frame.data === undefined ? null : frame.data });
    };
    sock.onclose = (close) => {
      out({ i, type: "close", code: close.code });
      setTimeout(open, 100);
    };
  };
  open();
}

for (let i = 0; i < Number(count); i++) {
  (kind === "sockjs" ? sockJs : socketIo)(i);
}

commands(() => {});
