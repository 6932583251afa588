// @ts-check
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { connectEvents, disconnectEvents, loadSession, onLive, onSignedOut, signOut } from "./api.js";
import { AddonsPage } from "./pages/addons.js";
import { AlertsPage } from "./pages/alerts.js";
import { CapacityPage } from "./pages/capacity.js";
import { DisputesPage } from "./pages/disputes.js";
import { EarningsPage } from "./pages/earnings.js";
import { LeasePage } from "./pages/lease.js";
import { LeasesPage } from "./pages/leases.js";
import { MarketPage } from "./pages/market.js";
import { OverviewPage } from "./pages/overview.js";
import { SignInPage } from "./pages/sign-in.js";
import { html } from "./ui.js";

/** The console's views by hash route (#/leases/7): the server serves one shell for /admin. */
const NAV = [
  ["overview", "Overview"],
  ["capacity", "Capacity"],
  ["leases", "Leases"],
  ["earnings", "Earnings"],
  ["market", "Bids"],
  ["disputes", "Disputes"],
  ["alerts", "Alerts"],
  ["addons", "Addons"],
];

function route() {
  const [, name = "overview", id] = location.hash.replace(/^#\/?/, "#").split(/[#/]/);
  return { name: name || "overview", id };
}

function View({ name, id }) {
  switch (name) {
    case "capacity":
      return html`<${CapacityPage} />`;
    case "leases":
      return id ? html`<${LeasePage} id=${id} />` : html`<${LeasesPage} />`;
    case "earnings":
      return html`<${EarningsPage} />`;
    case "market":
      return html`<${MarketPage} />`;
    case "disputes":
      return html`<${DisputesPage} />`;
    case "alerts":
      return html`<${AlertsPage} />`;
    case "addons":
      return html`<${AddonsPage} />`;
    default:
      return html`<${OverviewPage} />`;
  }
}

function App() {
  const [session, setSession] = useState(/** @type {any} */ (undefined));
  const [where, setWhere] = useState(route());
  const [live, setLive] = useState(false);
  useEffect(() => {
    const hash = () => setWhere(route());
    addEventListener("hashchange", hash);
    const offLive = onLive(setLive);
    const offOut = onSignedOut(() => {
      disconnectEvents();
      setSession(null);
    });
    // A sign-in link carries its token in the fragment: the sign-in view redeems it, so do not ask for a session.
    if (/token=/.test(location.hash)) setSession(null);
    else loadSession().then(setSession, () => setSession(null));
    return () => {
      removeEventListener("hashchange", hash);
      offLive();
      offOut();
    };
  }, []);
  useEffect(() => {
    if (session) connectEvents();
  }, [session]);
  if (session === undefined) return html`<p class="loading">Loading…</p>`;
  if (session === null) {
    return html`<${SignInPage} onSignedIn=${(s) => {
      if (!/^#\/\w/.test(location.hash)) location.hash = "#/overview";
      setSession(s);
    }} />`;
  }
  return html`<header class="top">
      <span class="brand">Podnet worker</span>
      <nav>${NAV.map(
        ([name, label]) => html`<a href=${`#/${name}`} class=${where.name === name ? "active" : ""}>${label}</a>`,
      )}</nav>
      <span class="who">
        <span data-testid="live" data-live=${live ? "yes" : "no"}><span class=${`live ${live ? "on" : ""}`}></span>${live ? "live" : "offline"}</span>
        <span>session until ${new Date(session.expiresAt).toLocaleString()}</span>
        <button class="secondary" data-testid="sign-out" onClick=${() => signOut()}>Sign out</button>
      </span>
    </header>
    <main><${View} ...${where} /></main>`;
}

// Loaded: the retry count of boot.js starts again for the next load.
sessionStorage.removeItem("podnet-console-load-retries");
const root = document.getElementById("console");
if (root) {
  root.textContent = "";
  render(html`<${App} />`, root);
}
