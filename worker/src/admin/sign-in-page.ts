import { createHash } from "node:crypto";
import type { Context } from "hono";

/**
 * The page a link from `podnet-worker console` opens. The token travels in the URL's fragment (`#token=…`), which a
 * browser never sends to a server, so it reaches no access log or Referer; this page's script posts it to
 * /admin/v1/sign-in/link, removes it from the address bar and history, and reports the result. The console's pages
 * will replace the final message with a redirect.
 */
const script = `
const token = new URLSearchParams(location.hash.slice(1)).get("token");
history.replaceState(null, "", location.pathname);
const out = document.getElementById("result");
if (!token) { out.textContent = "No sign-in token in this link: run podnet-worker console."; }
else fetch("/admin/v1/sign-in/link", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) })
  .then(async (r) => { out.textContent = r.ok ? "Signed in." : (await r.json()).error.message; });
`;
const scriptHash = createHash("sha256").update(script).digest("base64");

const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Podnet worker: sign in</title></head>
<body><p id="result">Signing in…</p><script>${script}</script></body></html>`;

export function signInPage(c: Context) {
  return c.html(html, 200, {
    "content-security-policy": `default-src 'none'; script-src 'sha256-${scriptHash}'; connect-src 'self'; frame-ancestors 'none'`,
    "referrer-policy": "no-referrer",
  });
}
