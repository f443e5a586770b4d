// Shared by the client scripts: JSON lines out (one per thing that happened), JSON commands in.
"use strict";
const readline = require("node:readline");

function out(record) {
  process.stdout.write(JSON.stringify(record) + "\n");
}

// Calls handler(command) for each JSON line on stdin; exits when stdin ends (the test is done with us).
function commands(handler) {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    if (line.trim() === "") return;
    try {
      handler(JSON.parse(line));
    } catch (e) {
      out({ type: "script_error", message: String(e && e.message) });
    }
  });
  rl.on("close", () => process.exit(0));
}

// Ends the process once the client had a moment to send its goodbye; never keeps it alive by itself.
function exitSoon() {
  setTimeout(() => process.exit(0), 1000).unref();
}

function describe(value) {
  if (value === undefined || value === null) return null;
  if (typeof value === "string" || typeof value === "number") return value;
  if (value.message) return String(value.message);
  return String(value);
}

module.exports = { out, commands, exitSoon, describe };
