import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";

/**
 * The console's pages: a few ES modules in worker/console/ (Preact + htm, no build step) and the npm packages they use,
 * served by the worker itself so the console works offline and no CDN sees the provider's traffic. The files are read
 * once at start into an allowlist keyed by URL path: nothing outside it is served, so no path in a request can reach
 * the disk.
 */

/** worker/console/ from src/admin (tsx) and dist/admin (built) alike. */
const CONSOLE_DIR = fileURLToPath(new URL("../../console/", import.meta.url));

/** The browser modules' bare imports, resolved by the page's import map to files served under /admin/assets/vendor/. */
const VENDOR = {
  preact: { pkg: "preact", file: "dist/preact.mjs" },
  "preact/hooks": { pkg: "preact", file: "hooks/dist/hooks.mjs" },
  htm: { pkg: "htm", file: "dist/htm.mjs" },
  uplot: { pkg: "uplot", file: "dist/uPlot.esm.js" },
} as const;
const VENDOR_CSS = { "uplot.css": { pkg: "uplot", file: "dist/uPlot.min.css" } } as const;

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** A package's directory, found from its resolved entry (exports maps hide package.json from require.resolve). */
function packageDir(pkg: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(pkg));
  while (
    !existsSync(join(dir, "package.json")) ||
    JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== pkg
  ) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`console: cannot find the ${pkg} package`);
    dir = up;
  }
  return dir;
}

function asset(path: string): Asset {
  const body = readFileSync(path);
  const ext = path.slice(path.lastIndexOf("."));
  return {
    body,
    type: TYPES[ext] ?? "application/octet-stream",
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
  };
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

export class ConsoleAssets {
  private readonly assets = new Map<string, Asset>();
  private readonly shell: string;
  private readonly csp: string;

  constructor() {
    for (const file of walk(CONSOLE_DIR)) {
      const rel = relative(CONSOLE_DIR, file).split(sep).join("/");
      // The shell is served by page(); tests and configs are not for browsers.
      if (rel === "index.html" || rel.endsWith(".json") || rel.endsWith(".test.js")) continue;
      this.assets.set(`/admin/assets/${rel}`, asset(file));
    }
    const imports: Record<string, string> = {};
    for (const [specifier, { pkg, file }] of Object.entries(VENDOR)) {
      const url = `/admin/assets/vendor/${specifier.replace("/", "-")}.js`;
      this.assets.set(url, asset(join(packageDir(pkg), file)));
      imports[specifier] = url;
    }
    for (const [name, { pkg, file }] of Object.entries(VENDOR_CSS)) {
      this.assets.set(`/admin/assets/vendor/${name}`, asset(join(packageDir(pkg), file)));
    }
    const importMap = JSON.stringify({ imports });
    this.shell = readFileSync(join(CONSOLE_DIR, "index.html"), "utf8").replace(
      "<!--importmap-->",
      `<script type="importmap">${importMap}</script>`,
    );
    const mapHash = createHash("sha256").update(importMap).digest("base64");
    // The import map is the one inline script, pinned by its hash; every other script and style is a file served
    // here. uPlot sets element styles from script, which 'unsafe-inline' for style attributes only would allow, but
    // CSP cannot split attributes from <style>; uPlot's own stylesheet is a file, and its runtime sizes go through
    // the CSSOM, which CSP does not restrict.
    this.csp = [
      "default-src 'none'",
      `script-src 'self' 'sha256-${mapHash}'`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ].join("; ");
  }

  /** The page shell for /admin, /admin/ and /admin/sign-in: the router in app.js picks the view. */
  page = (c: Context) =>
    c.html(this.shell, 200, { "content-security-policy": this.csp, "referrer-policy": "no-referrer" });

  /** GET /admin/assets/*: an allowlisted file, or 404. */
  file = (c: Context) => {
    const found = this.assets.get(c.req.path);
    if (!found) return c.json({ error: { status: 404, message: `${c.req.path}: no such asset` } }, 404);
    if (c.req.header("if-none-match") === found.etag) return c.body(null, 304, { etag: found.etag });
    return c.body(new Uint8Array(found.body), 200, {
      "content-type": found.type,
      etag: found.etag,
      "content-security-policy": "default-src 'none'",
    });
  };

  get paths() {
    return [...this.assets.keys()];
  }
}
