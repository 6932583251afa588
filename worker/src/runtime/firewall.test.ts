import { describe, expect, it } from "vitest";
import {
  BLOCKED_RANGES,
  firewallChains,
  PodFirewall,
  parseEgressAllowEntry,
  removeChainsCommands,
} from "./firewall.js";
import type { WorkerInstance } from "./names.js";

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
      case "-X": {
        // Only an empty chain nothing jumps to.
        const target = new RegExp(` -[jg] ${chain}( |$)`);
        const referenced = [...chains.values()].some((list) => list.some((r) => target.test(` ${r}`)));
        if (!rules || rules.length > 0 || referenced) return false;
        chains.delete(chain);
        return true;
      }
      default:
        return false;
    }
  };
  const builtin = new Set(["INPUT", "FORWARD", "OUTPUT"]);
  /** `iptables -S`: the policies and chains, then every rule. */
  const save = async () => [
    ...[...chains.keys()].map((chain) => (builtin.has(chain) ? `-P ${chain} ACCEPT` : `-N ${chain}`)),
    ...[...chains].flatMap(([chain, rules]) => rules.map((rule) => `-A ${chain} ${rule}`)),
  ];
  /** `iptables-restore --noflush`: every command or, when one fails, none. */
  const restore = async (commands: string[][]) => {
    const before = new Map([...chains].map(([chain, rules]) => [chain, [...rules]]));
    for (const command of commands) {
      if (!(await run(command))) {
        chains.clear();
        for (const [chain, rules] of before) chains.set(chain, rules);
        throw new Error(`iptables-restore: ${command.join(" ")} failed`);
      }
    }
  };
  /** What a PodFirewall is given to drive this iptables. */
  const io = { run, save, restore };
  return { chains, run, save, restore, io };
}

const instance: WorkerInstance = { provider: "0x70997970c51812dc3a010c7d01b50e0d17dc79c8", tag: "0a1b2c3d" };

describe("PodFirewall", () => {
  it("installs its chains once, jumps to them first, and drops every non-public range in the policy", async () => {
    const ipt = fakeIptables();
    const firewall = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", ...ipt.io });
    await firewall.install();
    await firewall.install();
    expect(ipt.chains.get("INPUT")).toEqual(["-j PODNET-709979-0A1B2C3D-IN"]);
    expect(ipt.chains.get("DOCKER-USER")).toEqual(["-j PODNET-709979-0A1B2C3D-FWD", "-j RETURN"]);
    const policy = ipt.chains.get("PODNET-709979-0A1B2C3D-POD") ?? [];
    expect(policy[0]).toBe("-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN");
    for (const range of [...BLOCKED_RANGES, "10.200.0.0/14"]) expect(policy).toContain(`-d ${range} -j DROP`);
    expect(policy).not.toContain("-j DROP");
  });

  it("drops all egress with podEgress none, and adds and removes a subnet's rules in order", async () => {
    const ipt = fakeIptables();
    const firewall = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "none", ...ipt.io });
    await firewall.install();
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-POD")?.at(-1)).toBe("-j DROP");
    await firewall.addSubnet("10.200.1.0/24");
    await firewall.addSubnet("10.200.1.0/24");
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-FWD")).toEqual([
      "-s 10.200.1.0/24 -d 10.200.1.0/24 -j RETURN",
      "-s 10.200.1.0/24 -j PODNET-709979-0A1B2C3D-POD",
    ]);
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).toEqual([
      "-s 10.200.1.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-s 10.200.1.0/24 -j DROP",
    ]);
    await firewall.removeSubnet("10.200.1.0/24");
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-FWD")).toEqual([]);
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).toEqual([]);
  });

  it("syncs a restart's subnets from one read of the chains: complete ones cost no check, gone ones go", async () => {
    const ipt = fakeIptables();
    const before = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", ...ipt.io });
    await before.install();
    for (const subnet of ["10.200.1.0/24", "10.200.2.0/24", "10.200.3.0/24"]) await before.addSubnet(subnet);
    // A crash between two rules: 10.200.2.0/24 lost its last one.
    ipt.chains.get("PODNET-709979-0A1B2C3D-IN")?.pop();
    // Every process the firewall starts: a command run alone, a read of the table, a transaction.
    const commands: string[][] = [];
    const processes: string[] = [];
    const run = (args: string[]) => {
      processes.push("iptables");
      commands.push(args);
      return ipt.run(args);
    };
    const save = () => {
      processes.push("iptables -S");
      return ipt.save();
    };
    const restore = (batch: string[][]) => {
      processes.push("iptables-restore");
      commands.push(...batch);
      return ipt.restore(batch);
    };
    const after = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", run, save, restore });
    // The networks left: 1 (complete), 2 (incomplete) and 4 (new); 3's network is gone.
    await after.sync(["10.200.1.0/24", "10.200.2.0/24", "10.200.4.0/24"]);
    expect(processes).toEqual(["iptables -S", "iptables-restore"]);
    expect(commands.some((c) => c.includes("10.200.1.0/24"))).toBe(false);
    const input = ipt.chains.get("PODNET-709979-0A1B2C3D-IN") ?? [];
    for (const subnet of ["10.200.1.0/24", "10.200.2.0/24", "10.200.4.0/24"]) {
      expect(input.filter((rule) => rule === `-s ${subnet} -j DROP`)).toHaveLength(1);
      expect(ipt.chains.get("PODNET-709979-0A1B2C3D-FWD")).toContain(`-s ${subnet} -j PODNET-709979-0A1B2C3D-POD`);
    }
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-FWD")?.join("\n")).not.toContain("10.200.3.0/24");
    expect(input.join("\n")).not.toContain("10.200.3.0/24");
    // Known from the sync: adding a complete subnet again asks iptables nothing.
    const asked = processes.length;
    await after.addSubnet("10.200.1.0/24");
    expect(processes).toHaveLength(asked);
    // A new subnet: one read, one transaction, whatever the number of rules.
    await after.addSubnet("10.200.5.0/24");
    expect(processes.slice(asked)).toEqual(["iptables -S", "iptables-restore"]);
  });

  it("changes nothing when iptables refuses a command of a transaction", async () => {
    const ipt = fakeIptables();
    ipt.chains.delete("DOCKER-USER");
    const firewall = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", ...ipt.io });
    // Without Docker's chain the jump into ...-FWD cannot be inserted: the chains made before it in the same
    // transaction are not left behind, and the error names the command.
    await expect(firewall.install()).rejects.toThrow(/DOCKER-USER 1 -j PODNET-709979-0A1B2C3D-FWD/);
    expect([...ipt.chains.keys()]).toEqual(["INPUT"]);
  });

  it("starts with two processes: one read of the table and one transaction", async () => {
    const ipt = fakeIptables();
    const processes: string[] = [];
    const firewall = new PodFirewall({
      instance,
      pool: "10.200.0.0/14",
      egress: "public",
      allow: [parseEgressAllowEntry("172.17.0.1:8545")],
      run: (args) => {
        processes.push("iptables");
        return ipt.run(args);
      },
      save: () => {
        processes.push("iptables -S");
        return ipt.save();
      },
      restore: (commands) => {
        processes.push("iptables-restore");
        return ipt.restore(commands);
      },
    });
    await firewall.install();
    expect(processes).toEqual(["iptables -S", "iptables-restore"]);
  });

  it("opens exactly the allowed ip:port pairs, before the drops, and closes them when the list empties", async () => {
    const ipt = fakeIptables();
    const allow = [parseEgressAllowEntry("172.17.0.1:8545"), parseEgressAllowEntry("10.0.0.7:42069")];
    const firewall = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "none", allow, ...ipt.io });
    await firewall.install();
    await firewall.install();
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-HOST")).toEqual([
      "-p tcp -d 172.17.0.1/32 --dport 8545 -j ACCEPT",
      "-p tcp -d 10.0.0.7/32 --dport 42069 -j ACCEPT",
    ]);
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).toEqual(["-s 10.200.0.0/14 -j PODNET-709979-0A1B2C3D-HOST"]);
    const policy = ipt.chains.get("PODNET-709979-0A1B2C3D-POD") ?? [];
    expect(policy.slice(0, 3)).toEqual([
      "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-p tcp -d 172.17.0.1/32 --dport 8545 -j RETURN",
      "-p tcp -d 10.0.0.7/32 --dport 42069 -j RETURN",
    ]);
    // Nothing else passes: the private range the entry sits in is still dropped, and so is the rest with egress none.
    expect(policy).toContain("-d 10.0.0.0/8 -j DROP");
    expect(policy.at(-1)).toBe("-j DROP");
    // A subnet's rules come after the jump: the allow-list is looked at first, then the subnet's drop.
    await firewall.addSubnet("10.200.1.0/24");
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).toEqual([
      "-s 10.200.0.0/14 -j PODNET-709979-0A1B2C3D-HOST",
      "-s 10.200.1.0/24 -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-s 10.200.1.0/24 -j DROP",
    ]);

    const closed = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "none", ...ipt.io });
    await closed.install();
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-HOST")).toEqual([]);
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).not.toContain(
      "-s 10.200.0.0/14 -j PODNET-709979-0A1B2C3D-HOST",
    );
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-POD")?.join("\n")).not.toContain("--dport");
  });

  it("names its chains after the instance, within iptables' 28 characters", () => {
    expect(firewallChains(instance)).toEqual({
      input: "PODNET-709979-0A1B2C3D-IN",
      forward: "PODNET-709979-0A1B2C3D-FWD",
      pod: "PODNET-709979-0A1B2C3D-POD",
      host: "PODNET-709979-0A1B2C3D-HOST",
    });
    for (const chain of Object.values(firewallChains(instance))) expect(chain.length).toBeLessThanOrEqual(28);
    expect(() => firewallChains({ ...instance, tag: "0A1B2C3D-; -F" })).toThrow(/instance tag/);
  });

  it("keeps two instances of one provider key apart: neither refills nor removes the other's rules", async () => {
    const ipt = fakeIptables();
    const open = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", ...ipt.io });
    const other = { ...instance, tag: "deadbeef" };
    const closed = new PodFirewall({ instance: other, pool: "10.200.0.0/14", egress: "none", ...ipt.io });
    await open.install();
    await open.addSubnet("10.200.1.0/24");
    await closed.install();
    await closed.addSubnet("10.200.2.0/24");
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-POD")).not.toContain("-j DROP");
    expect(ipt.chains.get("PODNET-709979-DEADBEEF-POD")?.at(-1)).toBe("-j DROP");
    await closed.removeSubnet("10.200.2.0/24");
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-FWD")).toEqual([
      "-s 10.200.1.0/24 -d 10.200.1.0/24 -j RETURN",
      "-s 10.200.1.0/24 -j PODNET-709979-0A1B2C3D-POD",
    ]);
    expect(ipt.chains.get("DOCKER-USER")).toEqual([
      "-j PODNET-709979-DEADBEEF-FWD",
      "-j PODNET-709979-0A1B2C3D-FWD",
      "-j RETURN",
    ]);
  });

  it("installs no host chain without an allow-list", async () => {
    const ipt = fakeIptables();
    await new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", ...ipt.io }).install();
    expect(ipt.chains.has("PODNET-709979-0A1B2C3D-HOST")).toBe(false);
    expect(ipt.chains.get("PODNET-709979-0A1B2C3D-IN")).toEqual([]);
  });
});

describe("removeChainsCommands", () => {
  it("removes the chosen chains, every jump to them (each copy) and nothing else, in one transaction", async () => {
    const ipt = fakeIptables();
    const allow = [parseEgressAllowEntry("10.0.9.1:8545")];
    const mine = new PodFirewall({ instance, pool: "10.200.0.0/14", egress: "public", allow, ...ipt.io });
    const again = new PodFirewall({
      instance: { ...instance, tag: "deadbeef" },
      pool: "10.200.0.0/14",
      egress: "none",
      ...ipt.io,
    });
    const other = { provider: "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", tag: "0a1b2c3d" } as const;
    const theirs = new PodFirewall({ instance: other, pool: "10.200.0.0/14", egress: "public", ...ipt.io });
    for (const firewall of [mine, again, theirs]) await firewall.install();
    await mine.addSubnet("10.200.1.0/24");
    await theirs.addSubnet("10.200.2.0/24");
    // A second copy of a jump (two workers racing at start).
    await ipt.run(["-A", "INPUT", "-j", "PODNET-709979-0A1B2C3D-IN"]);
    const theirsBefore = [...ipt.chains].filter(([chain]) => chain.startsWith("PODNET-3C44CD-"));

    const commands = removeChainsCommands(await ipt.save(), (chain) => chain.startsWith("PODNET-709979-"));
    await ipt.restore(commands);

    expect([...ipt.chains.keys()].filter((chain) => chain.startsWith("PODNET-709979-"))).toEqual([]);
    expect(ipt.chains.get("INPUT")).toEqual(["-j PODNET-3C44CD-0A1B2C3D-IN"]);
    expect(ipt.chains.get("DOCKER-USER")).toEqual(["-j PODNET-3C44CD-0A1B2C3D-FWD", "-j RETURN"]);
    expect([...ipt.chains].filter(([chain]) => chain.startsWith("PODNET-3C44CD-"))).toEqual(theirsBefore);
    // Nothing of them left: nothing to do.
    expect(removeChainsCommands(await ipt.save(), (chain) => chain.startsWith("PODNET-709979-"))).toEqual([]);
  });

  it("picks user chains only (-N lines), never a built-in one (-P), whatever the predicate says", async () => {
    const ipt = fakeIptables();
    expect(removeChainsCommands(await ipt.save(), () => true)).toEqual([
      ["-F", "DOCKER-USER"],
      ["-X", "DOCKER-USER"],
    ]);
  });
});

describe("parseEgressAllowEntry", () => {
  it("takes one IPv4 address and one TCP port", () => {
    expect(parseEgressAllowEntry("172.17.0.1:8545")).toEqual({ ip: "172.17.0.1", port: 8545 });
    expect(parseEgressAllowEntry("203.0.113.9:1")).toEqual({ ip: "203.0.113.9", port: 1 });
  });

  it("refuses names, ranges, IPv6, bad octets and ports, and addresses no service is meant by", () => {
    for (const bad of [
      "localhost:8545",
      "172.17.0.0/16:8545",
      "172.17.0.1:8545-8600",
      "172.17.0.1",
      "[::1]:8545",
      "172.17.0.256:8545",
      "172.017.0.1:8545",
      "172.17.0.1:0",
      "172.17.0.1:65536",
      " 172.17.0.1:8545",
    ]) {
      expect(() => parseEgressAllowEntry(bad), bad).toThrow(/is not ipv4:port|not an IPv4 address|port must be/);
    }
    for (const never of ["0.0.0.0:8545", "169.254.169.254:80", "224.0.0.1:5353", "255.255.255.255:9"]) {
      expect(() => parseEgressAllowEntry(never), never).toThrow(/cannot be allowed/);
    }
  });
});
