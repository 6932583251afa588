/**
 * Canonical JSON: object keys sorted by UTF-16 code units (as RFC 8785), no whitespace, `undefined` members left
 * out. Everything hashed by Podnet (pod manifests, attestation documents) goes through this one function, so the
 * publisher, the worker and any third party always get the same bytes for the same value.
 *
 * Only the JSON subset Podnet uses is accepted: strings, safe integers, booleans, null, arrays and plain objects.
 * Fractions and non-finite numbers throw, because their text form is not portable across implementations.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, "x"] }) // '{"a":[true,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

function write(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) throw new TypeError(`${path}: only safe integers can be canonicalised`);
      return String(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map((item, i) => write(item, `${path}[${i}]`)).join(",")}]`;
      const record = value as Record<string, unknown>;
      const members = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${write(record[key], `${path}.${key}`)}`);
      return `{${members.join(",")}}`;
    }
    default:
      throw new TypeError(`${path}: ${typeof value} cannot be canonicalised`);
  }
}
