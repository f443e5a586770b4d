// A plain WebSocket viewer with the `ws` package, as a Node service would watch /ws. It answers the server's pings,
// as browsers do. Usage: node ws-viewer.js <url>
// Prints JSON lines: open, event (each frame {"event","data"}), close. Reads commands:
// {"cmd":"send","text":...} and {"cmd":"close"}.
"use strict";
const WebSocket = require("ws");
const { out, commands, exitSoon, describe } = require("./lines");

const [url] = process.argv.slice(2);
const ws = new WebSocket(url);

ws.on("open", () => out({ type: "open", transport: "websocket" }));
ws.on("message", (data) => {
  const frame = JSON.parse(data.toString());
  out({ type: "event", name: frame.event, data: frame.data === undefined ? null : frame.data });
});
ws.on("error", (err) => out({ type: "error", message: describe(err) }));
ws.on("close", (code, reason) => {
  out({ type: "close", code, reason: reason.toString() });
  exitSoon();
});

commands((command) => {
  if (command.cmd === "send") {
    ws.send(command.text);
  } else if (command.cmd === "close") {
    ws.close();
    exitSoon();
  }
});
