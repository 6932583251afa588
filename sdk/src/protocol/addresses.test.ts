import { describe, expect, it } from "vitest";
import { isLocalHostName, isPublicAddress } from "./addresses.js";
import { parseManifest } from "./manifest.js";

describe("public addresses", () => {
  it("tells public addresses from loopback, private, link-local, CGNAT, multicast and reserved ones", () => {
    for (const ip of ["1.1.1.1", "8.8.8.8", "203.0.114.1", "2606:4700::1111"])
      expect(isPublicAddress(ip), ip).toBe(true);
    for (const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "::ffff:10.0.0.1",
      "2001:db8::1",
      "not an ip",
    ]) {
      expect(isPublicAddress(ip), ip).toBe(false);
    }
    expect(isPublicAddress("172.32.0.1")).toBe(true);
  });

  it("knows host names that are local without resolving them", () => {
    for (const host of ["localhost", "api.localhost", "127.0.0.1", "[::1]", "10.0.0.1"]) {
      expect(isLocalHostName(host), host).toBe(true);
    }
    for (const host of ["registry.example.com", "1.1.1.1"]) expect(isLocalHostName(host), host).toBe(false);
  });

  it("keeps a manifest's registry off local addresses and its processes within what memory pays for", () => {
    const digest = `sha256:${"ab".repeat(32)}`;
    const pod = (image: string, pids?: number) => ({
      version: 1,
      containers: [{ name: "web", image, resources: { cpuMillis: 10, memoryMiB: 32, ...(pids ? { pids } : {}) } }],
    });
    expect(() => parseManifest(pod(`127.0.0.1:5000/app@${digest}`))).toThrow(/registry on loopback/);
    expect(() => parseManifest(pod(`localhost:5000/app@${digest}`))).toThrow(/registry on loopback/);
    expect(() => parseManifest(pod(`registry.example.com/app@${digest}`))).not.toThrow();
    expect(() => parseManifest(pod(`library/app@${digest}`))).not.toThrow();
    expect(() => parseManifest(pod(`app@${digest}`, 512))).not.toThrow();
    expect(() => parseManifest(pod(`app@${digest}`, 513))).toThrow(/resources\.pids/);
  });
});
