/**
 * The worker's `podEgressAllow` opening on the real kernel firewall (iptables) and the real Docker Engine: a pod on a
 * network the firewall guards reaches exactly the listed host `ip:port`, and nothing next to it: not another port on
 * the same address, not the same port on another host address, and the policy chain still drops every private
 * range. Run as root with Docker, under the docker lock.
 *
 * Network rule: traffic goes only to listeners this file creates, on gateway addresses of networks this file creates.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server } from "node:net";
import { promisify } from "node:util";
import { buildTestImage, localDocker, removeProviderFirewall } from "@podnet/devnet";
import { type Address, getAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BLOCKED_RANGES, PodFirewall, parseEgressAllowEntry } from "../worker/src/runtime/firewall.js";

const docker = localDocker();
const run = promisify(execFile);
const suffix = randomBytes(4).toString("hex");
const provider = getAddress(`0x${randomBytes(20).toString("hex")}`) as Address;
const IMAGE = "podnet-test/egress-allow:v1";

const servers: Server[] = [];
const networks: string[] = [];
let containerId: string | undefined;
let firewall: PodFirewall;
let subnet: string;
/** The allowed address: a host address outside the pod pool (a "services" bridge gateway). */
let gateway: string;
/** The pod network's own gateway: another address of the host. */
let otherGateway: string;
let allowed: { port: number; connections: () => number };
let sameIpOtherPort: { port: number; connections: () => number };
let otherIpSamePort: { connections: () => number };

async function listener(host: string, port = 0): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.on("error", () => undefined);
    socket.end("HTTP/1.0 200 OK\r\n\r\nhost-service\n");
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return { port: typeof address === "object" && address ? address.port : 0, connections: () => count };
}

async function network(name: string): Promise<{ subnet: string; gateway: string }> {
  const created = await docker.createNetwork({
    Name: name,
    Driver: "bridge",
    Labels: { "podnet.test": "egress-allow" },
  });
  networks.push(created.id);
  const config = (await created.inspect()).IPAM?.Config?.[0];
  return { subnet: config?.Subnet as string, gateway: config?.Gateway as string };
}

/** GET / from the pod with nc; what came back (empty when the firewall dropped it). */
async function fromPod(ip: string, port: number): Promise<string> {
  const script = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${ip} ${port}`;
  const id = containerId as string;
  return run("docker", ["exec", id, "sh", "-c", script], { timeout: 30_000 }).then(
    ({ stdout }) => stdout,
    (error: { stdout?: string }) => error.stdout ?? "",
  );
}

/** What a connection from the host to `ip:port` reads. */
function hostGet(ip: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(port, ip);
    socket.setEncoding("utf8");
    socket.on("data", (chunk) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

const iptablesRules = async (chain: string) =>
  (await run("iptables", ["-w", "-S", chain]).catch(() => ({ stdout: "" }))).stdout.split("\n").filter(Boolean);

beforeAll(async () => {
  // The pods' network (the pool), and a "services" bridge whose gateway address on the host is where a devnet's
  // services would listen: the allowed pair is there, outside the pool, as the worker's config requires.
  ({ subnet, gateway: otherGateway } = await network(`podnet-egress-allow-${suffix}`));
  ({ gateway } = await network(`podnet-egress-services-${suffix}`));
  allowed = await listener(gateway);
  sameIpOtherPort = await listener(gateway);
  otherIpSamePort = await listener(otherGateway, allowed.port);
  firewall = new PodFirewall({
    instance: { provider, tag: "e9e55a11" },
    pool: subnet,
    egress: "public",
    allow: [parseEgressAllowEntry(`${gateway}:${allowed.port}`)],
  });
  expect(await firewall.available()).toBe(true);
  await firewall.install();
  await firewall.addSubnet(subnet);
  await buildTestImage(docker, IMAGE);
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ["sleep", "600"],
    Labels: { "podnet.test": "egress-allow" },
    HostConfig: { NetworkMode: `podnet-egress-allow-${suffix}`, CapDrop: ["ALL"] },
  });
  containerId = container.id;
  await container.start();
}, 180_000);

afterAll(async () => {
  if (containerId)
    await docker
      .getContainer(containerId)
      .remove({ force: true })
      .catch(() => undefined);
  if (firewall) {
    await firewall.removeSubnet(subnet);
    await removeProviderFirewall(provider);
  }
  for (const id of networks)
    await docker
      .getNetwork(id)
      .remove()
      .catch(() => undefined);
  for (const server of servers) server.close();
});

describe("podEgressAllow on the real firewall", () => {
  it("lets a pod reach the listed host ip:port", async () => {
    const before = allowed.connections();
    expect(await fromPod(gateway, allowed.port)).toContain("host-service");
    expect(allowed.connections()).toBe(before + 1);
  }, 60_000);

  it("keeps every other host port on that address closed", async () => {
    // The host reaches it: only the pod is kept out.
    expect(await hostGet(gateway, sameIpOtherPort.port)).toContain("host-service");
    const before = sameIpOtherPort.connections();
    expect(await fromPod(gateway, sameIpOtherPort.port)).not.toContain("host-service");
    expect(sameIpOtherPort.connections()).toBe(before);
  }, 60_000);

  it("keeps the same port on another host address (the pod network's own gateway) closed", async () => {
    const before = otherIpSamePort.connections();
    expect(await fromPod(otherGateway, allowed.port)).not.toContain("host-service");
    expect(otherIpSamePort.connections()).toBe(before);
  }, 60_000);

  it("opens one /32 and one TCP port, and the policy still drops every private range after it", async () => {
    const { pod, host } = firewall.chains;
    expect((await iptablesRules(host)).slice(1)).toEqual([
      `-A ${host} -d ${gateway}/32 -p tcp -m tcp --dport ${allowed.port} -j ACCEPT`,
    ]);
    const policy = await iptablesRules(pod);
    const openAt = policy.findIndex((rule) => rule.includes("--dport"));
    expect(policy.filter((rule) => rule.includes("--dport"))).toHaveLength(1);
    for (const range of BLOCKED_RANGES) expect(policy.indexOf(`-A ${pod} -d ${range} -j DROP`)).toBeGreaterThan(openAt);
  });
});
