import { describe, expect, it } from "vitest";
import { AppYamlError, appYamlTemplate, MAX_APP_YAML_BYTES, parseAppYaml, setAppYamlTarget } from "./app-yaml.js";
import { appConfigHash } from "./protocol/app-config.js";

const MINIMAL = `version: 1
instances:
  target: 2
price:
  maxPerInstance: "1000"
funding:
  depositPerLease: 86_400_000
  keepFunded: 6h
health:
  type: http
  path: /healthz
`;

function yamlError(text: string): AppYamlError {
  try {
    parseAppYaml(text);
  } catch (error) {
    expect(error).toBeInstanceOf(AppYamlError);
    return error as AppYamlError;
  }
  throw new Error("app.yaml was accepted");
}

describe("parseAppYaml", () => {
  it("reads the template podnet init --app writes", () => {
    const config = parseAppYaml(appYamlTemplate());
    expect(config.instances).toEqual({ min: 1, target: 2, maxPerProvider: 1 });
    expect(config.funding).toEqual({ depositPerLease: 86_400_000n, keepFunded: 21_600 });
    expect(parseAppYaml(appYamlTemplate({ schemaUrl: "x.json" }))).toEqual(config);
  });

  it("names the file, line, column and field of each bad value", () => {
    const error = yamlError(MINIMAL.replace('"1000"', "0.5").replace("keepFunded: 6h", "keepFunded: 1.5h"));
    expect(error.message).toBe(
      [
        "app.yaml:5:3 price.maxPerInstance: must be a whole number of token base units, got 0.5 (fractions are not exact)",
        'app.yaml:8:3 funding.keepFunded: "1.5h" is not a duration (e.g. 90s, 30m, 6h, 1h30m, 2d, or whole seconds)',
      ].join("\n"),
    );
    // Rules between fields once every field is valid on its own.
    expect(yamlError(MINIMAL.replace("target: 2", "target: 2\n  min: 3")).message).toBe(
      "app.yaml:4:3 instances.min: must be at most instances.target (2), got 3",
    );
  });

  it("refuses an unknown key at the key", () => {
    expect(yamlError(`${MINIMAL}autoscale: true\n`).message).toBe(
      'app.yaml:12:1 config: Unrecognized key: "autoscale"',
    );
  });

  it("refuses a YAML bomb (billion laughs) without expanding it", () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(",")}]`);
    }
    const error = yamlError(`${lines.join("\n")}\n${MINIMAL}`);
    expect(error.message).toMatch(/Excessive alias count/);
  });

  it("refuses custom tags, integers in other notations, duplicate keys and non-string keys", () => {
    expect(yamlError(MINIMAL.replace('"1000"', "!!binary aGk=")).message).toMatch(
      /price.maxPerInstance: tag tag:yaml.org,2002:binary is not allowed/,
    );
    expect(yamlError(MINIMAL.replace("target: 2", "target: 0x2")).message).toMatch(
      /instances.target: write integers in plain decimal \(2\), not 0x2/,
    );
    expect(yamlError(MINIMAL.replace('"1000"', "1e3")).message).toMatch(/write integers in plain decimal/);
    expect(yamlError(MINIMAL.replace("target: 2", "target: 2\n  target: 3")).message).toMatch(/unique/i);
    expect(yamlError(`${MINIMAL}1: x\n`).message).toMatch(/keys must be strings/);
  });

  it("refuses a file past the size limit before parsing it", () => {
    const big = `${MINIMAL}#${"x".repeat(MAX_APP_YAML_BYTES)}\n`;
    expect(yamlError(big).message).toBe(
      `app.yaml:1:1 config: is ${big.length} bytes, the limit is ${MAX_APP_YAML_BYTES}`,
    );
  });

  it("refuses an integer too large to be exact in YAML, asking for a string", () => {
    expect(yamlError(MINIMAL.replace('"1000"', "123456789012345678901")).message).toMatch(
      /price.maxPerInstance: is past 2\^53 and was already rounded: write it as a quoted decimal string/,
    );
  });
});

describe("setAppYamlTarget", () => {
  it("changes instances.target only, keeping comments, and lowers min when needed", () => {
    const text = appYamlTemplate();
    const updated = setAppYamlTarget(text, 5);
    expect(parseAppYaml(updated).instances).toEqual({ min: 1, target: 5, maxPerProvider: 1 });
    expect(updated).toContain("# how many instances to run");
    expect(updated.replace("target: 5", "target: 2")).toBe(text);
    const down = parseAppYaml(setAppYamlTarget(text, 0));
    expect(down.instances).toEqual({ min: 0, target: 0, maxPerProvider: 1 });
    expect(appConfigHash(down)).not.toBe(appConfigHash(parseAppYaml(text)));
  });

  it("refuses a target out of range, naming the field", () => {
    expect(() => setAppYamlTarget(appYamlTemplate(), -1)).toThrow(/instances.target: must be between 0 and 1000/);
    expect(() => setAppYamlTarget(appYamlTemplate(), 1001)).toThrow(/instances.target/);
  });
});
