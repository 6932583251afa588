import { describe, expect, it } from "vitest";
import { rpcWsUrlFrom } from "./rpc-ws-url.js";

describe("RPC_WS_URL", () => {
  it("is optional: unset or empty means polling", () => {
    expect(rpcWsUrlFrom(undefined)).toBeUndefined();
    expect(rpcWsUrlFrom("")).toBeUndefined();
  });

  it("takes ws:// and wss:// endpoints as given", () => {
    expect(rpcWsUrlFrom("ws://127.0.0.1:8545")).toBe("ws://127.0.0.1:8545");
    expect(rpcWsUrlFrom("wss://rpc.example.org/v1/key")).toBe("wss://rpc.example.org/v1/key");
  });

  it("refuses an http endpoint or a non-URL, naming the variable", () => {
    expect(() => rpcWsUrlFrom("http://127.0.0.1:8545")).toThrow(
      /^RPC_WS_URL "http:\/\/127.0.0.1:8545": must be ws:\/\/ or wss:\/\/, not http:\/\/$/,
    );
    expect(() => rpcWsUrlFrom("localhost:8545")).toThrow(
      /^RPC_WS_URL "localhost:8545": must be ws:\/\/ or wss:\/\/, not localhost:\/\/$/,
    );
    expect(() => rpcWsUrlFrom("not a url")).toThrow(/^RPC_WS_URL "not a url": not a URL$/);
  });
});
