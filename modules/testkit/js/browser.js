// A headless Debian chromium driven by playwright-core, for the page tests: one browser, tabs by name, commands as
// JSON lines on stdin, one JSON answer line per command on stdout ({"id", "ok", ...} or {"id", "ok": false, "error"}).
// Usage: node browser.js   (chromium at $GAVEL_CHROMIUM or /usr/bin/chromium)
// Commands: open {tab, url, context?, width?, height?, headers?, session?}, close {tab}, text {tab, selector} -> {text, visible} (the rendered text, whitespace collapsed),
// attribute {tab, selector, name} -> {value} (null when absent), fill {tab, selector, value}, click {tab, selector},
// screenshot {tab, path}, problems -> {problems} (since the last call), quit.
// Tabs of one context share localStorage (one browser, one viewer); each context is a separate browser profile. The
// headers given when a context is first used go with every request of its tabs, WebSocket upgrades included (what a
// proxy in front would add, e.g. a country header).
"use strict";
const { chromium } = require("playwright-core");
const { out, commands } = require("./lines");

const tabs = new Map();
const contexts = new Map();
// console errors, page errors and failed requests: a CSP violation or a missing asset shows up here
const problems = [];
let browser;
let queue = Promise.resolve();

async function context(name, headers) {
  if (!contexts.has(name)) contexts.set(name, await browser.newContext({ extraHTTPHeaders: headers || {} }));
  return contexts.get(name);
}

function tab(name) {
  const page = tabs.get(name);
  if (!page) throw new Error("no tab " + name);
  return page;
}

const handlers = {
  async open({ tab: name, url, context: ctx = "viewer", width = 1100, height = 800, headers, session }) {
    const page = await (await context(ctx, headers)).newPage();
    if (session) {
      // what the tab's sessionStorage holds before the page's scripts run (e.g. a viewer token)
      await page.addInitScript((items) => {
        for (const [key, value] of Object.entries(items)) sessionStorage.setItem(key, value);
      }, session);
    }
    await page.setViewportSize({ width, height });
    page.on("console", (m) => { if (m.type() === "error") problems.push(name + ": console: " + m.text()); });
    page.on("pageerror", (e) => problems.push(name + ": page error: " + e.message));
    page.on("requestfailed", (r) => {
      // a socket.io poll cut short by a node that stops, or by the tab closing, is what those tests do
      if (!r.url().includes("/auction/")) problems.push(name + ": request failed: " + r.url() + " " + (r.failure() || {}).errorText);
    });
    tabs.set(name, page);
    const response = await page.goto(url);
    return { status: response ? response.status() : 0 };
  },
  async close({ tab: name }) {
    await tab(name).close();
    tabs.delete(name);
    return {};
  },
  async text({ tab: name, selector }) {
    const locator = tab(name).locator(selector).first();
    const visible = await locator.isVisible();
    // as a person reads it: the rendered text, cells and lines apart by one space
    const text = visible ? (await locator.innerText({ timeout: 2000 })).replace(/\s+/g, " ").trim() : "";
    return { text, visible };
  },
  async attribute({ tab: name, selector, name: attribute }) {
    const locator = tab(name).locator(selector).first();
    const value = (await locator.count()) === 0 ? null : await locator.getAttribute(attribute, { timeout: 2000 });
    return { value };
  },
  async fill({ tab: name, selector, value }) {
    await tab(name).locator(selector).fill(value, { timeout: 5000 });
    return {};
  },
  async click({ tab: name, selector }) {
    await tab(name).locator(selector).click({ timeout: 5000 });
    return {};
  },
  async screenshot({ tab: name, path }) {
    await tab(name).screenshot({ path, fullPage: true });
    return {};
  },
  async problems() {
    return { problems: problems.splice(0) };
  },
  async quit() {
    await browser.close();
    setImmediate(() => process.exit(0));
    return {};
  },
};

async function main() {
  browser = await chromium.launch({
    executablePath: process.env.GAVEL_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // Playwright gives the browser a fresh, temporary profile (--user-data-dir); without the background-networking
    // flags chromium keeps trying hosts that a closed network refuses
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  out({ type: "ready", version: browser.version() });
  commands((command) => {
    // one command at a time, in order: a test reads the answer to what it asked
    queue = queue.then(async () => {
      try {
        const handler = handlers[command.cmd];
        if (!handler) throw new Error("unknown command " + command.cmd);
        out({ id: command.id, ok: true, ...(await handler(command)) });
      } catch (e) {
        out({ id: command.id, ok: false, error: String(e && e.message) });
      }
    });
  });
}

main().catch((e) => {
  out({ type: "failed", error: String(e && e.stack) });
  process.exit(1);
});
