import { describe, expect, it } from "vitest";
import { subscribeUrlOf } from "./new-heads.js";

describe("subscribeUrlOf", () => {
  it("prefers rpcSubscribeUrl, else a WebSocket rpcUrl, else nothing (polling only)", () => {
    expect(subscribeUrlOf({ rpcUrl: "http://127.0.0.1:8545", rpcSubscribeUrl: "ws://127.0.0.1:8545" })).toBe(
      "ws://127.0.0.1:8545",
    );
    expect(subscribeUrlOf({ rpcUrl: "wss://rpc.example.com/ws" })).toBe("wss://rpc.example.com/ws");
    expect(subscribeUrlOf({ rpcUrl: "https://rpc.example.com" })).toBeUndefined();
  });
});
