/**
 * HTTP(S) GETs that reach only the public internet. Publishers hand the worker URLs (blob sources) and names
 * (registries); fetched naively, `http://169.254.169.254/` or a name resolving to the provider's LAN would let them
 * read the provider's own network (SSRF). Every address a name resolves to must be public, and the connection goes to
 * the address that was checked (the check sits in the socket's own lookup, so a second DNS answer cannot differ).
 * Redirects are not followed. Errors never quote the URL: a source URL may carry credentials, and failure reasons
 * reach the publisher's event log and the public evidence document.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { isPublicAddress } from "@podnet/sdk/protocol";

/** Every address `host` resolves to (the system resolver, as a connection would use it). */
export function resolveAll(host: string): Promise<string[]> {
  if (isIP(host)) return Promise.resolve([host]);
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses: LookupAddress[]) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    );
  });
}

/** A socket lookup that fails unless every address of the name is public, then connects to the first. */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  lookupChecked(hostname, options, callback, true);
};

/** The system's lookup for a host the operator allowed (`privateSourceHosts`). */
const anyLookup: LookupFunction = (hostname, options, callback) => {
  lookupChecked(hostname, options, callback, false);
};

function lookupChecked(
  hostname: string,
  options: Parameters<LookupFunction>[1],
  callback: Parameters<LookupFunction>[2],
  publicOnly: boolean,
) {
  resolveAll(hostname).then(
    (addresses) => {
      const first = addresses[0];
      if (first === undefined || (publicOnly && addresses.some((address) => !isPublicAddress(address)))) {
        callback(Object.assign(new Error("resolves to an address that is not public"), { code: "ENOTPUBLIC" }), "", 4);
        return;
      }
      if ((options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [{ address: first, family: isIP(first) }]);
      } else callback(null, first, isIP(first));
    },
    (error: NodeJS.ErrnoException) => callback(error, "", 4),
  );
}

/**
 * GET `url` from a public address (or from one of `allowedHosts`, which the operator exempted); resolves with the
 * response body once the status is 200.
 * @throws {Error} with a reason that names neither the URL nor its credentials.
 */
export async function fetchPublic(
  url: string,
  signal: AbortSignal,
  allowedHosts: readonly string[] = [],
): Promise<IncomingMessage> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error("not a URL");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("not an http(s) URL");
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  const allowed = allowedHosts.includes(host.toLowerCase());
  if (!allowed && isIP(host) && !isPublicAddress(host)) throw new Error("refused: not a public address");
  const request = parsed.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(parsed, { method: "GET", lookup: allowed ? anyLookup : publicLookup, signal }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`HTTP ${response.statusCode}`));
        return;
      }
      resolve(response);
    });
    req.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new Error(error.code === "ENOTPUBLIC" ? "refused: not a public address" : (error.code ?? "request failed")),
      ),
    );
    req.end();
  });
}
