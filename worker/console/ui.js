// @ts-check
import htm from "htm";
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, onEvent } from "./api.js";

export const html = htm.bind(h);

/**
 * Reads `path` from the admin API, and again whenever an event on one of `topics` arrives (at most every 400 ms, so a
 * burst of events costs one request) or the event stream reconnects.
 * @param {string | null} path null: nothing to read (yet)
 * @param {string[]} topics
 */
export function useResource(path, topics = []) {
  const [state, setState] = useState(
    /** @type {{ data: any, error: string | null, loading: boolean }} */ ({
      data: null,
      error: null,
      loading: true,
    }),
  );
  const timer = useRef(/** @type {ReturnType<typeof setTimeout> | null} */ (null));
  const load = useCallback(async () => {
    if (!path) return;
    try {
      const data = await get(path);
      setState({ data, error: null, loading: false });
    } catch (error) {
      const message = error instanceof ApiError || error instanceof Error ? error.message : String(error);
      setState((s) => ({ data: s.data, error: message, loading: false }));
    }
  }, [path]);
  useEffect(() => {
    setState({ data: null, error: null, loading: true });
    load();
    const off = onEvent((topic) => {
      if (topic !== "*" && !topics.includes(topic)) return;
      if (timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        load();
      }, 400);
    });
    return () => {
      off();
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [load, topics.join(",")]);
  return { ...state, reload: load };
}

/**
 * The page frame: a title, and `data-ready` = "yes" once the page's data is in, "error" when reading it failed (what
 * the browser tests and the bench wait for).
 */
export function Page({ title, ready, error, children }) {
  return html`<section data-page=${title} data-ready=${ready ? "yes" : error ? "error" : "no"}>
    <h1>${title}</h1>
    ${error ? html`<div class="notice bad" role="alert">${error}</div>` : null}
    ${children}
  </section>`;
}

export function Card({ label, value, sub, testid }) {
  return html`<div class="card" data-testid=${testid}>
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${sub ? html`<div class="sub">${sub}</div>` : null}
  </div>`;
}

/** @param {{ tone?: "ok" | "warn" | "bad" | "", children?: any }} props */
export function Pill({ tone = "", children }) {
  return html`<span class=${`pill ${tone}`}>${children}</span>`;
}

/** A share as a bar: `used` of `total`, optionally a second figure (live use) drawn inside. */
export function Bar({ part, total, inner }) {
  const pct = (n) => `${total > 0 ? Math.min(100, (n / total) * 100).toFixed(1) : 0}%`;
  return html`<div class="bar" title=${pct(part)}><span style=${{ width: pct(part) }}></span></div>
    ${inner === undefined ? null : html`<div class="bar"><span class="used" style=${{ width: pct(inner) }}></span></div>`}`;
}

/**
 * A button for an action with consequences: it asks for confirmation (with optional inputs), runs `run`, and shows
 * the worker's answer — the transaction, or the error naming the field and the reason.
 * @param {{ label: string, confirm: string, run: (input: Record<string, string>) => Promise<any>,
 *   fields?: { name: string, label: string, placeholder?: string }[], tone?: string, describe?: (result: any) => string,
 *   testid?: string }} props
 */
export function ActionButton({ label, confirm, run, fields = [], tone = "", describe, testid }) {
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(/** @type {{ ok: boolean, text: string } | null} */ (null));
  const [input, setInput] = useState(/** @type {Record<string, string>} */ ({}));
  const go = async () => {
    setBusy(true);
    try {
      const answer = await run(input);
      setResult({
        ok: true,
        text: describe ? describe(answer) : answer?.tx ? `Done: transaction ${answer.tx}` : "Done.",
      });
      setOpen(false);
    } catch (error) {
      setResult({ ok: false, text: /** @type {Error} */ (error).message });
    } finally {
      setBusy(false);
    }
  };
  return html`<span>
    <button class=${tone} data-testid=${testid} onClick=${() => {
      setResult(null);
      setOpen(true);
    }}>${label}</button>
    ${result ? html`<div class=${`notice ${result.ok ? "ok" : "bad"}`} role="status" data-testid=${testid && `${testid}-result`}>${result.text}</div>` : null}
    ${
      open
        ? html`<div class="dialog-backdrop"><div class="dialog" role="dialog" aria-label=${label}>
          <p>${confirm}</p>
          ${fields.map(
            (f) => html`<p><label>${f.label}<br />
              <input name=${f.name} placeholder=${f.placeholder ?? ""} value=${input[f.name] ?? ""}
                onInput=${(e) => setInput({ ...input, [f.name]: e.currentTarget.value })} /></label></p>`,
          )}
          ${result && !result.ok ? html`<div class="notice bad" role="alert">${result.text}</div>` : null}
          <div class="actions">
            <button disabled=${busy} data-testid=${testid && `${testid}-confirm`} onClick=${go}>${busy ? "Sending…" : "Confirm"}</button>
            <button class="secondary" disabled=${busy} onClick=${() => setOpen(false)}>Cancel</button>
          </div>
        </div></div>`
        : null
    }
  </span>`;
}
