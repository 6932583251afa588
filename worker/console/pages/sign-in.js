// @ts-check
import { useEffect, useState } from "preact/hooks";
import { signInWithLink, signInWithWallet } from "../api.js";
import { html } from "../ui.js";

/**
 * Signing in: a one-time link from `podnet-worker console` (its token in the URL's fragment, which no server sees) is
 * redeemed at once and removed from the address bar; otherwise the provider signs an EIP-4361 message with the
 * browser wallet holding the provider key.
 * @param {{ onSignedIn: (session: any) => void }} props
 */
export function SignInPage({ onSignedIn }) {
  const [message, setMessage] = useState(/** @type {{ ok: boolean, text: string } | null} */ (null));
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const token = new URLSearchParams(location.hash.slice(1)).get("token");
    if (!token) return;
    history.replaceState(null, "", "/admin");
    setBusy(true);
    signInWithLink(token)
      .then(onSignedIn)
      .catch((error) => setMessage({ ok: false, text: error.message }))
      .finally(() => setBusy(false));
  }, []);
  const wallet = /** @type {any} */ (window).ethereum;
  const withWallet = async () => {
    setBusy(true);
    setMessage(null);
    try {
      onSignedIn(await signInWithWallet(wallet));
    } catch (error) {
      setMessage({ ok: false, text: /** @type {Error} */ (error).message });
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="signin" data-page="sign-in">
    <h1>Podnet worker console</h1>
    <p>Sign in with the provider's key.</p>
    ${message ? html`<div class=${`notice ${message.ok ? "ok" : "bad"}`} role="alert" data-testid="sign-in-error">${message.text}</div>` : null}
    <div class="actions">
      <button data-testid="sign-in-wallet" disabled=${busy || !wallet} onClick=${withWallet}>Sign in with wallet</button>
    </div>
    ${wallet ? null : html`<p class="muted">No browser wallet found.</p>`}
    <p class="muted">Or on the worker's machine run <span class="mono">podnet-worker console</span> and open the link it prints.</p>
  </div>`;
}
