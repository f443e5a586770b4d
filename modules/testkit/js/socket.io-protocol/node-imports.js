// Gavel's own stand-in for the suite's node-imports.js, which test-suite.js imports when it runs in Node: the same
// globals as upstream's (node-fetch, ws, chai with chai-string), except that requests to the suite's fixed server,
// http://localhost:3000 (and ws://localhost:3000), go to SOCKET_IO_PROTOCOL_SUITE_SERVER when it is set, e.g.
// http://127.0.0.1:41234: a test serves the suite on a free port, not on 3000. Only the address changes; path and
// query go as the suite wrote them.
import nodeFetch from "node-fetch";
import { WebSocket as NodeWebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";

const SUITE_SERVER = "http://localhost:3000";
const server = process.env.SOCKET_IO_PROTOCOL_SUITE_SERVER;

function redirect(url) {
  const text = String(url);
  if (!server) {
    return text;
  }
  for (const [from, to] of [
    [SUITE_SERVER, server],
    [SUITE_SERVER.replace("http", "ws"), server.replace("http", "ws")],
  ]) {
    if (text.startsWith(from + "/")) {
      return to + text.substring(from.length);
    }
  }
  return text;
}

class RedirectedWebSocket extends NodeWebSocket {
  constructor(url, ...rest) {
    super(redirect(url), ...rest);
  }
}

chai.use(chaiString);

globalThis.fetch = (url, options) => nodeFetch(redirect(url), options);
globalThis.WebSocket = RedirectedWebSocket;
globalThis.chai = chai;
