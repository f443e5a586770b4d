// A viewer with the official socket.io-client, as the auction team's front end connects.
// Usage: node socketio-viewer.js <url> <options as JSON>   (options go to io(url, options) as they are)
// Prints JSON lines: open (the Engine.IO session, with its first transport), connect (with socket.recovered),
// upgrade, event (with the offset that connection state recovery keeps, when the server sent one), connect_error (with
// the server's data, for a CONNECT refused by the server),
// disconnect. Reads commands:
// {"cmd":"emit","name":...}, {"cmd":"connect","auth":{...}} (socket.connect() with new auth) and {"cmd":"close"}.
"use strict";
const { io } = require("socket.io-client");
const { out, commands, exitSoon, describe } = require("./lines");

const [url, options] = process.argv.slice(2);
const socket = io(url, JSON.parse(options || "{}"));

socket.io.on("open", () => {
  out({ type: "open", transport: socket.io.engine.transport.name });
  socket.io.engine.on("upgrade", (transport) => out({ type: "upgrade", transport: transport.name }));
});
socket.on("connect", () => out({ type: "connect", transport: socket.io.engine.transport.name, recovered: socket.recovered }));
socket.on("connect_error", (err) => {
  const context = err.context;
  out({
    type: "connect_error",
    message: describe(err),
    description: describe(err.description),
    body: context && typeof context.responseText === "string" ? context.responseText : null,
    data: err.data === undefined ? null : err.data,
  });
});
socket.on("disconnect", (reason) => out({ type: "disconnect", reason }));
socket.onAny((name, ...args) => out({
  type: "event",
  name,
  data: args.length === 0 ? null : args[0],
  offset: args.length > 1 && typeof args[args.length - 1] === "string" ? args[args.length - 1] : null,
}));

commands((command) => {
  if (command.cmd === "emit") {
    socket.emit(command.name);
  } else if (command.cmd === "connect") {
    socket.auth = command.auth;
    socket.connect();
  } else if (command.cmd === "close") {
    socket.close();
    exitSoon();
  }
});
