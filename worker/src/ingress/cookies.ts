/**
 * Every pod is served under the provider's one ingress domain (`l<lease>.<domain>`), so a cookie a pod sets with
 * `Domain=<domain>` (or any parent) would be sent to every other tenant's pod, and theirs to it. The ingress narrows
 * each `Set-Cookie` to the host the request came for: a `Domain` attribute naming anything but that exact host is
 * dropped, which makes the cookie host-only (the browser then keeps it to this pod's host alone).
 */

/** `set-cookie` values with every `Domain` attribute broader than (or other than) `host` removed. */
export function narrowCookies(values: string[], host: string): string[] {
  const own = host.replace(/:\d+$/, "").replace(/\.$/, "").toLowerCase();
  return values.map((cookie) => {
    const [pair, ...attributes] = cookie.split(";");
    const kept = attributes.filter((attribute) => {
      const [name, ...rest] = attribute.split("=");
      if (name?.trim().toLowerCase() !== "domain") return true;
      const domain = rest.join("=").trim().replace(/^\./, "").replace(/\.$/, "").toLowerCase();
      return domain === own;
    });
    return [pair, ...kept].join(";");
  });
}
