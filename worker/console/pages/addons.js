// @ts-check
import { useState } from "preact/hooks";
import { send } from "../api.js";
import { dateTime } from "../format.js";
import { ActionButton, html, Page, Pill, useResource } from "../ui.js";

/** The addon processes the worker runs, and the scoped tokens addons use (create, see, revoke). */
export function AddonsPage() {
  const addons = useResource("/addons", ["overview"]);
  const tokens = useResource("/tokens", []);
  const scopes = useResource("/scopes", []);
  const [minted, setMinted] = useState(/** @type {string | null} */ (null));
  return html`<${Page} title="Addons and tokens" ready=${!!tokens.data && !!scopes.data} error=${tokens.error}>
    <h2>Addons</h2>
    ${addons.error ? html`<p class="muted">${addons.error}</p>` : null}
    <table data-testid="addons-table"><thead><tr><th>Addon</th><th>State</th><th>Scopes</th><th class="num">Restarts</th><th>Started</th></tr></thead>
      <tbody>${(addons.data?.addons ?? []).map(
        (a) => html`<tr key=${a.name}><td>${a.name}</td>
          <td><${Pill} tone=${a.running ? "ok" : "bad"}>${a.running ? `running (pid ${a.pid})` : "stopped"}</${Pill}></td>
          <td>${(a.scopes ?? []).join(", ")}</td><td class="num">${a.restarts}</td>
          <td>${a.startedAt ? new Date(a.startedAt).toISOString().slice(0, 19).replace("T", " ") : "—"}</td></tr>`,
      )}</tbody></table>
    <h2>Tokens</h2>
    ${
      minted
        ? html`<div class="notice ok" data-testid="minted-token">New token (shown once, copy it now): <span class="mono">${minted}</span></div>`
        : null
    }
    <div class="actions">
      <${ActionButton} testid="new-token" label="New token" tone="secondary"
        confirm=${`A token for an addon. Scopes, comma-separated: ${Object.keys(scopes.data ?? {}).join(", ")}.`}
        fields=${[
          { name: "name", label: "Name" },
          { name: "scopes", label: "Scopes", placeholder: "read" },
          { name: "days", label: "Valid for days", placeholder: "30" },
        ]}
        run=${async (input) => {
          const created = await send("POST", "/tokens", {
            name: input.name ?? "",
            scopes: (input.scopes ?? "")
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
            expiresIn: Math.round(Number(input.days || "30") * 86_400),
          });
          setMinted(created.token);
          tokens.reload();
          return created;
        }}
        describe=${(r) => `Created token ${r.id}.`} />
    </div>
    <table data-testid="tokens-table"><thead><tr><th>Id</th><th>Name</th><th>Scopes</th><th>Expires</th><th></th></tr></thead>
      <tbody>${(tokens.data?.tokens ?? []).map(
        (t) => html`<tr key=${t.id}><td class="mono">${t.id}</td><td>${t.name}</td><td>${t.scopes.join(", ")}</td>
          <td>${dateTime(Math.floor(t.expiresAt / 1000))}</td>
          <td><${ActionButton} label="Revoke" tone="danger" confirm=${`Revoke token ${t.name}? Its addon is refused from now on.`}
            run=${async () => {
              const r = await send("DELETE", `/tokens/${t.id}`);
              tokens.reload();
              return r;
            }}
            describe=${() => "Revoked."} /></td></tr>`,
      )}</tbody></table>
  </${Page}>`;
}
