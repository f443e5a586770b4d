// The admin dashboard: the auctions watched now (polled every 2 s, well under the API's per-address rate), the
// audience chart of one of them from viewer-stats' history (uPlot), who is watching it and from where (the viewers
// and countries calls, gathered from every replica: a paged list, and a world map by country drawn with d3-geo from
// the world-atlas map the node serves, with a table of the same numbers beside it), and forms that publish bidding
// and sold events. The token stays in sessionStorage and goes in the Authorization header only.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = "gavel.adminToken";
  const POLL_MILLIS = 2000;
  // viewer-stats is one request per auction: the most watched ones are enough for a console
  const MAX_STATS = 20;
  const ID = /^[A-Za-z0-9_-]{1,64}$/;
  const VIEWERS_PAGE = 50;
  const WORLD_MAP = "/assets/world/countries-110m.json";
  // darker is more: five steps of the accent colour, from a country with one viewer to the most watched one
  const MAP_STEPS = ["#dbeafe", "#93c5fd", "#60a5fa", "#2563eb", "#1e3a8a"];
  const MAP_NONE = "#e5e7eb";
  const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;

  let pollTimer = null;
  let selected = null;
  let chart = null;
  let chartAuction = null;
  // the viewer list's page: the cursor it was read with (null: the first), where it starts, and the next one's
  let viewersAuction = null;
  let viewersCursor = null;
  let viewersStart = 0;
  let viewersNext = null;
  // the map's country shapes by alpha-2 code, once loaded
  let world = null;
  let worldLoading = null;

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
      if (selected !== null) await audience(selected);
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

  // who is watching and from where: the current page of the list and the countries, both from every replica
  async function audience(auctionId) {
    if (viewersAuction !== auctionId) {
      viewersAuction = auctionId;
      viewersCursor = null;
      viewersStart = 0;
    }
    $("audience-auction").textContent = auctionId;
    const path = "/api/v1/auctions/" + encodeURIComponent(auctionId);
    const query = "?limit=" + VIEWERS_PAGE + (viewersCursor === null ? "" : "&cursor=" + encodeURIComponent(viewersCursor));
    try {
      const [viewers, countries] = await Promise.all([api("GET", path + "/viewers" + query), api("GET", path + "/countries")]);
      if (viewersAuction !== auctionId) return;
      renderViewers(viewers);
      renderCountries(countries);
      await drawMap(countries);
      say("audience-message", "", true);
    } catch (e) {
      if (e.status === 401) throw e;
      say("audience-message", e.message, false);
    }
  }

  function regionName(code) {
    if (!code) return "Unknown";
    try {
      return (regionNames && regionNames.of(code)) || code;
    } catch (e) {
      return code;
    }
  }

  function since(iso) {
    const at = new Date(iso);
    const minutes = Math.max(0, Math.floor((Date.now() - at.getTime()) / 60000));
    const ago = minutes < 1 ? "under a minute" : minutes < 120 ? minutes + " min" : Math.floor(minutes / 60) + " h";
    return at.toLocaleTimeString() + " (" + ago + ")";
  }

  function renderViewers(answer) {
    const missing = answer.missing || [];
    $("audience-summary").textContent = answer.connections + (answer.connections === 1 ? " connection" : " connections")
      + " · " + answer.people + (answer.people === 1 ? " person" : " people")
      + (missing.length > 0 ? " · not answering in time: " + missing.join(", ") + " (their viewers are not listed)" : "");
    $("audience-summary").classList.toggle("warn", missing.length > 0);
    const rows = answer.viewers.map((v) => {
      const tr = document.createElement("tr");
      tr.dataset.viewer = v.userId || v.viewerId || "";
      const who = v.name || v.userId || v.viewerId || "anonymous";
      const label = cell(who);
      if (v.userId) label.title = "user " + v.userId + (v.viewerId ? ", viewer " + v.viewerId : "");
      else if (!v.viewerId) label.classList.add("muted");
      tr.append(label, cell(v.country ? regionName(v.country) + " (" + v.country + ")" : "—"), cell(v.transport), cell(v.node),
        cell(since(v.connectedAt)));
      return tr;
    });
    $("viewers").tBodies[0].replaceChildren(...rows);
    $("viewers-range").textContent = answer.viewers.length === 0 ? "(none)"
      : (viewersStart + 1) + "–" + (viewersStart + answer.viewers.length) + " of " + answer.connections;
    viewersNext = answer.next;
    $("viewers-next").disabled = answer.next === null;
    $("viewers-first").disabled = viewersCursor === null;
    $("viewers").dataset.shown = String(answer.viewers.length);
  }

  function renderCountries(answer) {
    const rows = answer.countries.map((c) => {
      const tr = document.createElement("tr");
      tr.dataset.country = c.country;
      tr.append(cell(regionName(c.country) + " (" + c.country + ")"), cell(String(c.current)));
      return tr;
    });
    if (answer.unknown > 0) {
      const tr = document.createElement("tr");
      tr.dataset.country = "unknown";
      tr.append(cell("Unknown"), cell(String(answer.unknown)));
      rows.push(tr);
    }
    $("countries").tBodies[0].replaceChildren(...rows);
  }

  function loadWorld() {
    if (worldLoading === null) {
      worldLoading = fetch(WORLD_MAP).then((response) => {
        if (!response.ok) throw new Error("the world map answered " + response.status);
        return response.json();
      }).then((topology) => {
        const svg = $("map");
        const ns = "http://www.w3.org/2000/svg";
        const projection = d3.geoEqualEarth().fitExtent([[4, 4], [956, 476]], { type: "Sphere" });
        const path = d3.geoPath(projection);
        const sphere = document.createElementNS(ns, "path");
        sphere.setAttribute("class", "sphere");
        sphere.setAttribute("d", path({ type: "Sphere" }));
        svg.append(sphere);
        const shapes = new Map();
        for (const feature of topojson.feature(topology, topology.objects.countries).features) {
          const shape = document.createElementNS(ns, "path");
          shape.setAttribute("d", path(feature));
          shape.setAttribute("fill", MAP_NONE);
          if (feature.id) {
            shape.dataset.country = feature.id;
            const title = document.createElementNS(ns, "title");
            shape.append(title);
            shapes.set(feature.id, shape);
          }
          svg.append(shape);
        }
        world = shapes;
      });
    }
    return worldLoading;
  }

  async function drawMap(answer) {
    try {
      await loadWorld();
    } catch (e) {
      worldLoading = null;
      $("map-legend").textContent = "The map could not be drawn (" + e.message + "); the table has the numbers.";
      return;
    }
    const counts = new Map(answer.countries.map((c) => [c.country, c.current]));
    const most = answer.countries.length > 0 ? answer.countries[0].current : 0;
    for (const [code, shape] of world) {
      const n = counts.get(code) || 0;
      const step = n === 0 ? -1 : Math.min(MAP_STEPS.length - 1, Math.ceil((n / most) * MAP_STEPS.length) - 1);
      shape.setAttribute("fill", step < 0 ? MAP_NONE : MAP_STEPS[step]);
      shape.dataset.count = String(n);
      shape.firstChild.textContent = regionName(code) + ": " + n + " watching";
    }
    const unmapped = answer.countries.filter((c) => !world.has(c.country)).map((c) => c.country + " " + c.current);
    $("map-legend").textContent = answer.countries.length === 0 && answer.unknown === 0 ? "Nobody is watching."
      : "Darker is more viewers; the most watching from one country: " + most + "."
        + (answer.unknown > 0 ? " Country unknown: " + answer.unknown + "." : "")
        + (unmapped.length > 0 ? " Too small for this map: " + unmapped.join(", ") + "." : "");
  }

  $("viewers-next").addEventListener("click", () => {
    if (viewersNext === null) return;
    viewersStart += Number($("viewers").dataset.shown || 0);
    viewersCursor = viewersNext;
    poll();
  });

  $("viewers-first").addEventListener("click", () => {
    viewersCursor = null;
    viewersStart = 0;
    poll();
  });

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
