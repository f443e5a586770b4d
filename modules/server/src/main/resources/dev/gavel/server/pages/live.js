// The live view of one auction: the auction team's socket.io listener (their plan's createAuctionSocket), with a
// viewerId kept in localStorage so that one browser counts as one unique viewer, and the peak.
"use strict";

(function () {
  const auctionId = decodeURIComponent(location.pathname.split("/")[2] || "");
  const $ = (id) => document.getElementById(id);
  const TOAST_MILLIS = 8000;

  // [A-Za-z0-9_-]{1,64}, as the contract wants; getRandomValues works on plain http, where randomUUID does not
  function viewerId() {
    const key = "gavel.viewerId";
    let id = localStorage.getItem(key);
    if (!id || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      localStorage.setItem(key, id);
    }
    return id;
  }

  function setConnection(state) {
    const el = $("connection");
    el.dataset.state = state;
    el.textContent = state;
  }

  // the team's setViewerCount / setPeakViewers; the badge is hidden at 0, as in their plan
  function setViewerCount(current, peak) {
    $("count").textContent = String(current);
    $("count-badge").hidden = !(current > 0);
    $("peak").textContent = String(peak);
  }

  // the team's setCurrentPlayer: a player is whatever JSON object the admin published
  function setCurrentPlayer(player) {
    const details = $("player-details");
    details.replaceChildren();
    let name = "Player";
    if (player && typeof player === "object") {
      name = String(player.name ?? player.playerName ?? "Player");
      for (const [key, value] of Object.entries(player)) {
        if (key === "name" || key === "playerName" || value === null || typeof value === "object") continue;
        const dt = document.createElement("dt");
        dt.textContent = key;
        const dd = document.createElement("dd");
        dd.textContent = String(value);
        details.append(dt, dd);
      }
    }
    $("player-name").textContent = name;
    $("player").hidden = false;
    $("player-empty").hidden = true;
  }

  let toastTimer;
  // the team's toast.success(message)
  function toast(message) {
    const el = $("toast");
    el.textContent = String(message);
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, TOAST_MILLIS);
  }

  $("auction-id").textContent = auctionId;
  document.title = "Auction " + auctionId + " · Gavel";

  // A signed-in user's viewer token, which the team's front end (or a test) puts in this tab's sessionStorage: the
  // page has no sign-in of its own, and without one the viewer is anonymous.
  function viewerToken() {
    return sessionStorage.getItem("gavel.viewerToken");
  }

  function createAuctionSocket() {
    const token = viewerToken();
    // no address: the page's own origin, the node that served it
    const socket = io({
      query: { slug: "auction-" + auctionId, viewerId: viewerId() },
      path: "/auction/",
      ...(token ? { auth: { token } } : {}),
    });

    socket.on("playerBiddingUpdate", (player) => {
      setCurrentPlayer(player);
    });

    socket.on("playerSoldUpdate", (message) => {
      toast(message);
    });

    socket.on("viewerCountUpdate", (data) => {
      setViewerCount(data.current, data.peak);
    });

    let connectedOnce = false;
    socket.on("connect", () => {
      connectedOnce = true;
      setConnection("live");
    });
    // the client reconnects by itself after anything but our own close (a node stopping closes with 1012)
    const retrying = () => setConnection(!socket.active ? "disconnected" : connectedOnce ? "reconnecting" : "connecting");
    socket.on("disconnect", retrying);
    socket.on("connect_error", retrying);
    return socket;
  }

  createAuctionSocket();
})();
