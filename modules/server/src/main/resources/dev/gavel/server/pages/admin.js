// The admin dashboard: the auctions watched now (polled every 2 s, well under the API's per-address rate), the
// audience chart of one of them from viewer-stats' history (uPlot), and forms that publish bidding and sold events.
// The token stays in sessionStorage and goes in the Authorization header only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "gavel.adminToken";
  const POLL_MILLIS = 2000;
  // viewer-stats is one request per auction: the most watched ones are enough for a console
  const MAX_STATS = 20;
  const ID = /^[A-Za-z0-9_-]{1,64}$/;

  let pollTimer = null;
  let selected = null;
  let chart = null;
  let chartAuction = null;

  class ApiError extends Error {
    constructor(status, detail) {
      super(explain(status, detail));
      this.status = status;
    }
  }

  // what a person can do about each answer
  function explain(status, detail) {
    switch (status) {
      case 0: return "Cannot reach the Gavel node. Check that it is running, then try again.";
      case 400: return "The node refused this input" + (detail ? ": " + detail : ".");
      case 401: return "The admin token was not accepted. Sign in again with the node's ADMIN_TOKEN.";
      case 403: return "This page's address is not allowed to call the node (ALLOWED_ORIGIN).";
      case 404: return "No such auction: with AUCTIONS=registered, open it first.";
      case 413: return "That is too large to send (64 KiB at most).";
      case 429: return "Too many requests from this address. Wait a second and try again.";
      case 503: return "The node cannot reach Redis right now, so nothing was sent. Try again in a moment.";
      default: return "The node answered " + status + (detail ? ": " + detail : ".");
    }
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    } catch (e) {
      throw new ApiError(0);
    }
    const text = await response.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch (e) { /* not JSON: the status says enough */ }
    if (!response.ok) throw new ApiError(response.status, json && json.error);
    return json;
  }

  function setConnection(state, text) {
    $("connection").dataset.state = state;
    $("connection").textContent = text;
  }

  function say(id, text, ok) {
    const el = $(id);
    el.textContent = text;
    el.classList.toggle("ok", Boolean(ok));
    el.classList.toggle("error", !ok && text !== "");
  }

  function signedIn() {
    $("token-form").hidden = true;
    $("console").hidden = false;
    setConnection("connecting", "connecting");
    poll();
  }

  function signOut(message) {
    clearTimeout(pollTimer);
    pollTimer = null;
    sessionStorage.removeItem(TOKEN_KEY);
    $("console").hidden = true;
    $("token-form").hidden = false;
    $("token").value = "";
    say("token-message", message || "", false);
    setConnection("signed-out", "signed out");
  }

  async function poll() {
    clearTimeout(pollTimer);
    try {
      const auctions = await api("GET", "/api/v1/auctions");
      const stats = await Promise.all(auctions.slice(0, MAX_STATS).map((a) =>
        api("GET", "/api/v1/auctions/" + encodeURIComponent(a.auctionId) + "/viewer-stats").catch(() => null)));
      render(auctions, stats);
      say("list-message", "", true);
      setConnection("live", "live · updated " + new Date().toLocaleTimeString());
    } catch (e) {
      if (e.status === 401) {
        signOut(e.message);
        return;
      }
      say("list-message", e.message, false);
      setConnection("reconnecting", "reconnecting");
    }
    if (sessionStorage.getItem(TOKEN_KEY)) pollTimer = setTimeout(poll, POLL_MILLIS);
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function render(auctions, stats) {
    if (selected === null && auctions.length > 0) selected = auctions[0].auctionId;
    const rows = auctions.map((a, i) => {
      const tr = document.createElement("tr");
      tr.dataset.auction = a.auctionId;
      tr.classList.toggle("selected", a.auctionId === selected);
      const unique = stats[i] ? String(stats[i].uniqueViewers) : "–";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.textContent = "Chart";
      button.setAttribute("aria-label", "Chart of auction " + a.auctionId);
      button.addEventListener("click", () => {
        selected = a.auctionId;
        $("publish-auction").value = a.auctionId;
        poll();
      });
      const action = document.createElement("td");
      action.append(button);
      tr.append(cell(a.auctionId), cell(String(a.current)), cell(String(a.peak)), cell(unique), action);
      return tr;
    });
    $("auctions").tBodies[0].replaceChildren(...rows);
    $("no-auctions").hidden = auctions.length > 0;
    const index = auctions.findIndex((a) => a.auctionId === selected);
    if (index >= 0 && index < stats.length && stats[index]) {
      drawChart(selected, stats[index].history);
    } else if (selected !== null) {
      $("chart-message").textContent = "Auction " + selected + " has no viewers now.";
    }
  }

  function drawChart(auctionId, history) {
    $("chart-auction").textContent = auctionId;
    const xs = history.map((s) => Date.parse(s.timestamp) / 1000);
    const ys = history.map((s) => s.count);
    $("chart-message").textContent = history.length === 0
      ? "No samples yet: the node samples each auction every HISTORY_INTERVAL_MS."
      : history.length + " samples, latest " + ys[ys.length - 1] + " watching.";
    const width = Math.max(240, $("chart").clientWidth);
    if (chart === null || chartAuction !== auctionId) {
      if (chart !== null) chart.destroy();
      chartAuction = auctionId;
      chart = new uPlot({
        width,
        height: 240,
        scales: { y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { label: "watching" }],
        series: [{}, { label: "watching", stroke: "#2563eb", fill: "rgba(37, 99, 235, 0.12)", width: 2, paths: uPlot.paths.stepped({ align: 1 }) }],
      }, [xs, ys], $("chart"));
    } else {
      chart.setData([xs, ys]);
    }
  }

  window.addEventListener("resize", () => {
    if (chart !== null) chart.setSize({ width: Math.max(240, $("chart").clientWidth), height: 240 });
  });

  function auctionInput() {
    const id = $("publish-auction").value.trim();
    if (!ID.test(id)) throw new Error("An auction id is 1 to 64 letters, digits, '-' or '_'.");
    return id;
  }

  async function publish(action) {
    try {
      say("publish-message", "Sending…", true);
      say("publish-message", await action(), true);
      poll();
    } catch (e) {
      if (e.status === 401) {
        signOut(e.message);
        return;
      }
      say("publish-message", e.message, false);
    }
  }

  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value.trim());
    say("token-message", "", false);
    signedIn();
  });

  $("sign-out").addEventListener("click", () => signOut(""));

  $("bidding-form").addEventListener("submit", (event) => {
    event.preventDefault();
    publish(async () => {
      const id = auctionInput();
      let player;
      try {
        player = JSON.parse($("player").value);
      } catch (e) {
        throw new Error("The player is not valid JSON: " + e.message);
      }
      if (player === null || typeof player !== "object" || Array.isArray(player)) {
        throw new Error("The player must be a JSON object, such as {\"name\": \"Virat\"}.");
      }
      await api("POST", "/api/v1/auctions/" + id + "/bidding", player);
      return "Bid sent to every viewer of auction " + id + ".";
    });
  });

  $("sold-form").addEventListener("submit", (event) => {
    event.preventDefault();
    publish(async () => {
      const id = auctionInput();
      await api("POST", "/api/v1/auctions/" + id + "/sold", { message: $("sold-message").value });
      return "Sold message sent to every viewer of auction " + id + ".";
    });
  });

  $("open-auction").addEventListener("click", () => publish(async () => {
    const id = auctionInput();
    await api("PUT", "/api/v1/auctions/" + id);
    return "Auction " + id + " is open for viewers.";
  }));

  $("close-auction").addEventListener("click", () => publish(async () => {
    const id = auctionInput();
    await api("DELETE", "/api/v1/auctions/" + id);
    return "Auction " + id + " is closed; its viewers were sent away.";
  }));

  if (sessionStorage.getItem(TOKEN_KEY)) signedIn();
})();
