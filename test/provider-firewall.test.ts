/**
 * The harness's removal of a provider's pod firewall (devnet's removeProviderFirewall, after every devnet provider) on
 * the real iptables: the chains of every instance of the provider and every jump to them go, in one transaction, and
 * another provider's stay exactly as they were.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { removeProviderFirewall } from "@podnet/devnet";
import { getAddress } from "viem";
import { afterAll, describe, expect, it } from "vitest";
import { PodFirewall, parseEgressAllowEntry } from "../worker/src/runtime/firewall.js";

const run = promisify(execFile);
const randomProvider = () => getAddress(`0x${randomBytes(20).toString("hex")}`);
const provider = randomProvider();
const other = randomProvider();
const prefix = (address: string) => `PODNET-${address.slice(2, 8).toUpperCase()}-`;

/** `iptables -S` lines that name a chain of `address`'s instances. */
async function linesOf(address: string): Promise<string[]> {
  const { stdout } = await run("iptables", ["-w", "-S"]);
  return stdout.split("\n").filter((line) => line.includes(prefix(address)));
}

afterAll(async () => {
  await removeProviderFirewall(provider);
  await removeProviderFirewall(other);
});

describe("removeProviderFirewall on the real iptables", () => {
  it("removes every instance's chains and jumps of the provider, each copy, and leaves another provider's alone", async () => {
    const pool = "10.252.0.0/16";
    const firewall = (address: string, tag: string, allow: string[] = []) =>
      new PodFirewall({
        instance: { provider: address.toLowerCase() as `0x${string}`, tag },
        pool,
        egress: "public",
        allow: allow.map(parseEgressAllowEntry),
      });
    const first = firewall(provider, randomBytes(4).toString("hex"), ["10.252.9.1:8545"]);
    const second = firewall(provider, randomBytes(4).toString("hex"));
    const theirs = firewall(other, randomBytes(4).toString("hex"));
    if (!(await first.available())) throw new Error("iptables with Docker's DOCKER-USER chain is needed (root)");
    for (const f of [first, second, theirs]) await f.install();
    await first.addSubnet("10.252.1.0/24");
    await second.addSubnet("10.252.2.0/24");
    await theirs.addSubnet("10.252.3.0/24");
    // A second copy of a jump, as two workers starting at once can leave.
    await run("iptables", ["-w", "-A", "INPUT", "-j", first.chains.input]);
    expect((await linesOf(provider)).filter((line) => line.startsWith("-N "))).toHaveLength(7);
    const theirsBefore = await linesOf(other);

    await removeProviderFirewall(provider);

    expect(await linesOf(provider)).toEqual([]);
    expect(await linesOf(other)).toEqual(theirsBefore);
    // Nothing left to remove: a second call changes nothing and does not fail.
    await removeProviderFirewall(provider);
    expect(await linesOf(other)).toEqual(theirsBefore);
  });
});
