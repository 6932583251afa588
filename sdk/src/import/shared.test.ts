import { describe, expect, it } from "vitest";
import { commandList, parseEnvFile } from "./compose.js";
import { cpuMillis, podName, sizeMiB } from "./shared.js";

describe("the importer's readers", () => {
  it("sizes: Compose units are binary, SDL's M/G decimal and Mi/Gi binary, rounded up to MiB", () => {
    expect(sizeMiB("512M")).toBe(512);
    expect(sizeMiB("512m")).toBe(512);
    expect(sizeMiB("1g")).toBe(1024);
    expect(sizeMiB("1.5G")).toBe(1536);
    expect(sizeMiB(1048577)).toBe(2);
    expect(sizeMiB("100k")).toBe(1);
    expect(sizeMiB("1G", true)).toBe(954);
    expect(sizeMiB("1Gi", true)).toBe(1024);
    expect(sizeMiB("512Mi", true)).toBe(512);
    for (const bad of ["abc", "-1G", "1e9", "1 GB extra", "", "Mi"]) expect(sizeMiB(bad), bad).toBeUndefined();
    expect(sizeMiB("99999999P")).toBeUndefined(); // past the pod's 2^32 - 1 MiB
  });

  it("CPUs: decimal strings and numbers to millicores without float arithmetic", () => {
    expect(cpuMillis("0.50")).toBe(500);
    expect(cpuMillis(0.25)).toBe(250);
    expect(cpuMillis("1.5")).toBe(1500);
    expect(cpuMillis(2)).toBe(2000);
    expect(cpuMillis("0.0001")).toBeUndefined(); // below one millicore
    for (const bad of ["1e3", "-1", "one", "0"]) expect(cpuMillis(bad), bad).toBeUndefined();
  });

  it("commands: a string is split as a shell would, quotes kept together", () => {
    expect(commandList(`sh -c "echo 'hi there' && sleep 1"`)).toEqual(["sh", "-c", "echo 'hi there' && sleep 1"]);
    expect(commandList(["node", 3000])).toEqual(["node", "3000"]);
    expect(commandList({ a: 1 })).toBeUndefined();
  });

  it("env files: comments, export, quotes and inline comments", () => {
    expect(parseEnvFile("# c\nA=1\nexport B=\"two words\"\nC=x # note\nD='#kept'\nnot a line\n")).toEqual({
      A: "1",
      B: "two words",
      C: "x",
      D: "#kept",
    });
  });

  it("names: lowercased, _ and . as -, undefined when no DNS label results", () => {
    expect(podName("Shop_Front.v2")).toBe("shop-front-v2");
    expect(podName("-x")).toBeUndefined();
    expect(podName("a".repeat(33))).toBeUndefined();
  });
});
