// The console's shell: sign-in (when the deployment has one), then a hash router over the
// screens in the order of the integration's guide.
import { auth } from "./auth.js";
import { clearError, h, say, showError } from "./ui.js";
import * as connect from "./connect.js";
import * as customers from "./customers.js";
import * as subscriptions from "./subscriptions.js";
import * as integrator from "./integrator.js";
import * as runs from "./runs.js";

const SCREENS = { connect, customers, subscriptions, integrator, runs };
const view = document.getElementById("view");
let current = null;

async function render() {
  if (current) current.alive = false;
  const ctx = { alive: true };
  current = ctx;
  const match = location.hash.match(/^#\/([a-z]+)(?:\/(.+))?$/);
  const name = match && SCREENS[match[1]] ? match[1] : "connect";
  const param = match && match[2] ? decodeURIComponent(match[2]) : null;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.screen === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clearError();
  say("");
  view.setAttribute("aria-busy", "true");
  try {
    const content = await SCREENS[name].render(ctx, param);
    if (!ctx.alive) return;
    view.replaceChildren(content);
    document.title = `${content.querySelector("h1")?.textContent || "Console"} · Dicker Data → Halo`;
    const title = view.querySelector("h1");
    if (title && document.activeElement !== document.body) title.focus();
  } catch (error) {
    if (!ctx.alive) return;
    view.replaceChildren(h("h1", { tabindex: "-1", text: "This screen could not load" }));
    if (!(error && "status" in error)) showError(error);
  } finally {
    if (ctx.alive) view.removeAttribute("aria-busy");
  }
}

async function start() {
  let config = { auth: null };
  try {
    const response = await fetch("/console/config.json", { cache: "no-store" });
    if (response.ok) config = await response.json();
  } catch {
    config = { auth: null };
  }
  try {
    await auth.init(config.auth);
  } catch (error) {
    showError({ message: error.message, hint: "Reload the page to sign in again." });
  }
  const signOut = document.getElementById("sign-out");
  if (auth.enabled) {
    signOut.hidden = false;
    signOut.addEventListener("click", () => auth.signOut());
  }
  // The skip link would set the hash to "#view", which the router reads as a screen.
  document.querySelector(".skip").addEventListener("click", (event) => {
    event.preventDefault();
    view.focus();
  });
  window.addEventListener("hashchange", render);
  if (!location.hash) history.replaceState(null, "", "#/connect");
  await render();
}

start();
