import { describe, expect, it } from "vitest";
import type { RuntimeContainer } from "../runtime/docker-runtime.js";
import { LeaseContainers } from "./lease-containers.js";

function counted() {
  const calls: bigint[] = [];
  let fail = false;
  const list = async (leaseId: bigint) => {
    calls.push(leaseId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (fail) throw new Error("docker: connection refused");
    return [{ leaseId } as RuntimeContainer];
  };
  return { calls, list, failNext: (value: boolean) => (fail = value) };
}

describe("LeaseContainers", () => {
  it("answers concurrent polls of one lease with one Docker call, and asks again after the TTL", async () => {
    const docker = counted();
    let now = 0;
    const cache = new LeaseContainers(docker.list, 1000, () => now);
    const answers = await Promise.all(Array.from({ length: 10 }, () => cache.of(7n)));
    expect(docker.calls).toEqual([7n]);
    expect(answers.every((a) => a[0]?.leaseId === 7n)).toBe(true);
    now = 999;
    await cache.of(7n);
    expect(docker.calls).toEqual([7n]);
    now = 1000;
    await cache.of(7n);
    expect(docker.calls).toEqual([7n, 7n]);
  });

  it("keeps leases apart", async () => {
    const docker = counted();
    const cache = new LeaseContainers(docker.list, 1000, () => 0);
    expect((await cache.of(1n))[0]?.leaseId).toBe(1n);
    expect((await cache.of(2n))[0]?.leaseId).toBe(2n);
    expect(docker.calls).toEqual([1n, 2n]);
  });

  it("does not keep a failed call: the next poll asks Docker again", async () => {
    const docker = counted();
    const cache = new LeaseContainers(docker.list, 1000, () => 0);
    docker.failNext(true);
    await expect(cache.of(3n)).rejects.toThrow(/connection refused/);
    docker.failNext(false);
    expect((await cache.of(3n))[0]?.leaseId).toBe(3n);
    expect(docker.calls).toEqual([3n, 3n]);
  });
});
