// A viewer with the official sockjs-client.
// Usage: node sockjs-viewer.js <url> <options as JSON>   (options go to new SockJS(url, null, options))
// Prints JSON lines: open, event (each frame {"event","data"}), close. Reads commands:
// {"cmd":"send","text":...} and {"cmd":"close"}.
"use strict";
const SockJS = require("sockjs-client");
const { out, commands, exitSoon } = require("./lines");

const [url, options] = process.argv.slice(2);
const sock = new SockJS(url, null, JSON.parse(options || "{}"));

sock.onopen = () => out({ type: "open", transport: sock.transport });
sock.onmessage = (message) => {
  const frame = JSON.parse(message.data);
  out({ type: "event", name: frame.event, data: frame.data === undefined ? null : frame.data, offset: frame.offset || null });
};
sock.onclose = (close) => {
  out({ type: "close", code: close.code, reason: close.reason });
  exitSoon();
};

commands((command) => {
  if (command.cmd === "send") {
    sock.send(command.text);
  } else if (command.cmd === "close") {
    sock.close();
    exitSoon();
  }
});
