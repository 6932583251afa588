// @ts-check
/**
 * The console's only way to the worker: JSON over the admin API with the session cookie, the CSRF token on every
 * state-changing request, and one EventSource for live updates shared by every view.
 */

/** @type {{ csrfToken: string, csrfHeader: string, via: string, expiresAt: number } | null} */
let session = null;
/** @type {Set<() => void>} */
const signedOutListeners = new Set();

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @param {Response} res */
async function answer(res) {
  const type = res.headers.get("content-type") ?? "";
  const body = type.includes("json") ? await res.json() : await res.text();
  if (res.ok) return body;
  const message = typeof body === "object" && body?.error?.message ? body.error.message : `HTTP ${res.status}`;
  if (res.status === 401 && session) {
    session = null;
    for (const listener of signedOutListeners) listener();
  }
  throw new ApiError(res.status, message);
}

const GET_RETRIES = 3;

/**
 * GETs are retried on a network failure (fetch rejects with a TypeError): a network change on the machine aborts every
 * request in flight (ERR_NETWORK_CHANGED), and a read is safe to repeat. State-changing requests are not retried: one
 * that reached the worker before its answer was lost (a one-time sign-in link) must not run twice.
 * @param {string} path
 */
export async function get(path) {
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(`/admin/v1${path}`, { credentials: "same-origin" });
    } catch (error) {
      if (!(error instanceof TypeError) || attempt >= GET_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
      continue;
    }
    return answer(res);
  }
}

/** @param {"POST" | "PUT" | "DELETE"} method @param {string} path @param {unknown} [body] */
export async function send(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { "content-type": "application/json" };
  if (session) headers[session.csrfHeader] = session.csrfToken;
  return answer(
    await fetch(`/admin/v1${path}`, {
      method,
      credentials: "same-origin",
      headers,
      body: body === undefined ? "{}" : JSON.stringify(body),
    }),
  );
}

/** The current session, or null when signed out (401). */
export async function loadSession() {
  try {
    session = await get("/session");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) session = null;
    else throw error;
  }
  return session;
}

/** @param {() => void} listener */
export function onSignedOut(listener) {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** @param {string} token the one-time link's token */
export async function signInWithLink(token) {
  const res = await fetch("/admin/v1/sign-in/link", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  await answer(res);
  return loadSession();
}

/**
 * Sign-In with Ethereum through the browser's wallet (EIP-1193 `window.ethereum`): the EIP-4361 message names this
 * console's host and origin, the worker's chain and a nonce from the worker, and the wallet signs it.
 * @param {{ request: (args: { method: string, params?: unknown[] }) => Promise<any> }} wallet
 */
export async function signInWithWallet(wallet) {
  const { nonce, address, chainId } = await get("/sign-in/siwe/nonce");
  const accounts = /** @type {string[]} */ (await wallet.request({ method: "eth_requestAccounts" }));
  const account = accounts.find((a) => a.toLowerCase() === address.toLowerCase()) ?? accounts[0];
  if (!account) throw new Error("the wallet offered no account");
  const message = [
    `${location.host} wants you to sign in with your Ethereum account:`,
    account,
    "",
    "Sign in to the Podnet worker console.",
    "",
    `URI: ${location.origin}/admin`,
    "Version: 1",
    `Chain ID: ${chainId}`,
    `Nonce: ${nonce}`,
    `Issued At: ${new Date().toISOString()}`,
  ].join("\n");
  const signature = await wallet.request({ method: "personal_sign", params: [toHex(message), account] });
  const res = await fetch("/admin/v1/sign-in/siwe", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message, signature }),
  });
  await answer(res);
  return loadSession();
}

/** @param {string} text */
function toHex(text) {
  return `0x${[...new TextEncoder().encode(text)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export async function signOut() {
  await send("POST", "/sign-out");
  session = null;
  for (const listener of signedOutListeners) listener();
}

/** @typedef {(topic: string, data: any) => void} EventListener */
/** @type {Set<EventListener>} */
const eventListeners = new Set();
/** @type {Set<(live: boolean) => void>} */
const liveListeners = new Set();
/** @type {EventSource | null} */
let source = null;
const TOPICS = ["overview", "usage", "leases", "orders", "bids", "earnings", "disputes", "alerts"];

/** Opens the shared event stream (EventSource reconnects by itself after a drop). */
export function connectEvents() {
  if (source) return;
  source = new EventSource(`/admin/v1/events?topics=${TOPICS.join(",")}`);
  source.addEventListener("ready", () => {
    for (const l of liveListeners) l(true);
    // Whatever happened while the stream was down was not replayed: every view reads its resources again.
    for (const l of eventListeners) l("*", {});
  });
  source.addEventListener("error", () => {
    for (const l of liveListeners) l(false);
  });
  for (const topic of TOPICS) {
    source.addEventListener(topic, (event) => {
      const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
      for (const l of eventListeners) l(topic, data);
    });
  }
}

export function disconnectEvents() {
  source?.close();
  source = null;
  for (const l of liveListeners) l(false);
}

/** @param {EventListener} listener */
export function onEvent(listener) {
  eventListeners.add(listener);
  return () => eventListeners.delete(listener);
}

/** @param {(live: boolean) => void} listener */
export function onLive(listener) {
  liveListeners.add(listener);
  return () => liveListeners.delete(listener);
}
