/**
 * An HTTP route described once: its method and its path pattern (Hono syntax, `/v1/leases/:id`), from which the
 * server registers its handler and the client builds the concrete path. The builder's argument types follow from
 * the pattern's `:params`, so a pattern and its builder cannot disagree on how many ids a path takes.
 */

/** HTTP methods the Podnet APIs serve (a GET route answers HEAD too, as Hono does). */
export type HttpMethod = "GET" | "POST" | "PUT";

/** What each named path parameter of a Podnet API accepts. */
interface PathParamTypes {
  /** A lease or dispute id. */
  id: bigint | number;
  /** A content id. */
  cid: string;
  /** A provider's address. */
  address: string;
}

/** The builder's arguments: one per `:param` of the pattern, in order. */
export type PathArgs<Pattern extends string> = Pattern extends `${string}:${infer Name}/${infer Rest}`
  ? [ParamType<Name>, ...PathArgs<`/${Rest}`>]
  : Pattern extends `${string}:${infer Name}`
    ? [ParamType<Name>]
    : [];

type ParamType<Name extends string> = Name extends keyof PathParamTypes ? PathParamTypes[Name] : never;

/** One route of an HTTP API. */
export interface ApiRoute<Pattern extends string = string> {
  readonly method: HttpMethod;
  /** The path as the server's router registers it (Hono syntax). */
  readonly pattern: Pattern;
  /** The concrete path: the pattern with its `:params` filled in, in order. */
  readonly path: (...args: PathArgs<Pattern>) => string;
}

/** Builds a route from its method and pattern. */
export function apiRoute<const Pattern extends string>(method: HttpMethod, pattern: Pattern): ApiRoute<Pattern> {
  const params = pattern.match(/:[A-Za-z]+/g) ?? [];
  return {
    method,
    pattern,
    path: (...args) => {
      if (args.length !== params.length) {
        throw new TypeError(`${pattern}: takes ${params.length} path parameters, got ${args.length}`);
      }
      let i = 0;
      return pattern.replace(/:[A-Za-z]+/g, () => String(args[i++]));
    },
  };
}
