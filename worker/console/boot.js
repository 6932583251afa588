// @ts-check
/**
 * The console's first script, a classic one that runs before its modules. The browser fetches app.js and its ~20
 * imports at load; if one fetch fails (a network change aborts every request in flight, ERR_NETWORK_CHANGED, as Docker
 * adding a container's interface does; or the worker restarting), the module graph never runs and the page would say
 * "Loading the console…" for ever. A failed module graph fires an error event at its <script>: on one, reload the page
 * (the fragment, a sign-in link's token included, is kept), up to three times, then say what happened.
 * app.js clears the count once it runs.
 */
(() => {
  const KEY = "podnet-console-load-retries";
  const MAX_RETRIES = 3;
  addEventListener(
    "error",
    (event) => {
      const script = event.target;
      if (!(script instanceof HTMLScriptElement) || script.type !== "module") return;
      const tries = Number(sessionStorage.getItem(KEY) ?? "0");
      if (tries < MAX_RETRIES) {
        sessionStorage.setItem(KEY, String(tries + 1));
        setTimeout(() => location.reload(), 250 * 2 ** tries);
        return;
      }
      sessionStorage.removeItem(KEY);
      const root = document.getElementById("console");
      if (!root) return;
      const notice = document.createElement("div");
      notice.className = "notice bad";
      notice.setAttribute("role", "alert");
      notice.dataset.testid = "load-error";
      notice.textContent = `The console's scripts did not load after ${MAX_RETRIES + 1} tries (the connection to the worker failed). Reload the page to try again.`;
      root.replaceChildren(notice);
    },
    true,
  );
})();
