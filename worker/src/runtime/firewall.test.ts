import { describe, expect, it } from "vitest";
import { BLOCKED_RANGES, PodFirewall } from "./firewall.js";

/** An in-memory iptables: chains of rules, answering -N, -L, -C, -A, -I, -D and -F like the real one. */
function fakeIptables() {
  const chains = new Map<string, string[]>([
    ["INPUT", []],
    ["DOCKER-USER", ["-j RETURN"]],
  ]);
  const run = async (args: string[]) => {
    const [op, chain = "", ...rest] = args[0] === "-n" ? [args[1], args[2], ...args.slice(3)] : args;
    const rule = rest.join(" ");
    const rules = chains.get(chain);
    switch (op) {
      case "-N":
        if (rules) return false;
        chains.set(chain, []);
        return true;
      case "-L":
        return rules !== undefined;
      case "-C":
        return rules?.includes(rule) ?? false;
      case "-A":
        rules?.push(rule);
        return rules !== undefined;
      case "-I":
        rules?.splice(Number(rest[0]) - 1, 0, rest.slice(1).join(" "));
        return rules !== undefined;
      case "-D": {
        const at = rules?.indexOf(rule) ?? -1;
        if (at < 0) return false;
        rules?.splice(at, 1);
        return true;
      }
      case "-F":
        if (!rules) return false;
        rules.length = 0;
        return true;
      default:
        return false;
    }
  };
  return { chains, run };
}

const provider = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("PodFirewall", () => {
  it("installs its chains once, jumps to them first, and drops every non-public range in the policy", async () => {
    const ipt = fakeIptables();
    const firewall = new PodFirewall({ provider, pool: "10.200.0.0/14", egress: "public", run: ipt.run });
    await firewall.install();
    await firewall.install();
    expect(ipt.chains.get("INPUT")).toEqual(["-j PODNET-70997970-IN"]);
    expect(ipt.chains.get("DOCKER-USER")).toEqual(["-j PODNET-70997970-FWD", "-j RETURN"]);
    const policy = ipt.chains.get("PODNET-70997970-POD") ?? [];
    expect(policy[0]).toBe("-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN");
    for (const range of [...BLOCKED_RANGES, "10.200.0.0/14"]) expect(policy).toContain(`-d ${range} -j DROP`);
    expect(policy).not.toContain("-j DROP");
  });

  it("drops all egress with podEgress none, and adds and removes a subnet's rules in order", async () => {
    const ipt = fakeIptables();
    const firewall = new PodFirewall({ provider, pool: "10.200.0.0/14", egress: "none", run: ipt.run });
    await firewall.install();
    expect(ipt.chains.get("PODNET-70997970-POD")?.at(-1)).toBe("-j DROP");
    await firewall.addSubnet("10.200.1.0/24");
    await firewall.addSubnet("10.200.1.0/24");
    expect(ipt.chains.get("PODNET-70997970-FWD")).toEqual([
      "-s 10.200.1.0/24 -d 10.200.1.0/24 -j RETURN",
      "-s 10.200.1.0/24 -j PODNET-70997970-POD",
    ]);
    expect(ipt.chains.get("PODNET-70997970-IN")).toEqual([
      "-s 10.200.1.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-s 10.200.1.0/24 -j DROP",
    ]);
    await firewall.removeSubnet("10.200.1.0/24");
    expect(ipt.chains.get("PODNET-70997970-FWD")).toEqual([]);
    expect(ipt.chains.get("PODNET-70997970-IN")).toEqual([]);
  });
});
