import { describe, expect, it } from "vitest";
import { parsePodSpec, podSpecTemplate } from "../pod-spec.js";
import { contentId } from "../protocol/content-id.js";
import { UsageError } from "./args.js";
import { setContainerImage } from "./pod-file.js";

const image = `blob:${contentId(new TextEncoder().encode("image"))}`;

describe("cli: setContainerImage", () => {
  it("changes only the image value of the template: every comment and line stays", () => {
    const before = podSpecTemplate();
    const { text, container } = setContainerImage(before, "pod.yaml", "web", image);
    expect(container).toBe("web");
    const a = before.split("\n");
    const b = text.split("\n");
    expect(b).toHaveLength(a.length);
    const changed = a.flatMap((line, i) => (line === b[i] ? [] : [[line, b[i]]]));
    expect(changed).toEqual([[expect.stringMatching(/^ {4}image: registry\.example/), `    image: ${image}`]]);
    expect(parsePodSpec(text).containers[0]?.image).toBe(image);
  });

  it("keeps quotes, picks the named container, and changes an alias only where it is set", () => {
    const yaml = `version: 1
containers:
  - name: a # first
    image: &img "registry.example/a@sha256:${"1".repeat(64)}"
    resources: {cpuMillis: 1, memoryMiB: 6}
  - name: b
    image: *img # shares a's image
    resources: {cpuMillis: 1, memoryMiB: 6}
`;
    const b = setContainerImage(yaml, "pod.yaml", "b", image).text;
    expect(b).toContain(`    image: ${image} # shares a's image`);
    expect(parsePodSpec(b).containers.map((c) => c.image)).toEqual([
      `registry.example/a@sha256:${"1".repeat(64)}`,
      image,
    ]);
    const a = setContainerImage(yaml, "pod.yaml", "a", image).text;
    expect(a).toContain(`    image: &img "${image}"`);
  });

  it("needs --container when there are several, and names the containers when one is missing", () => {
    const yaml = "version: 1\ncontainers:\n  - name: a\n  - name: b\n";
    expect(() => setContainerImage(yaml, "pod.yaml", undefined, image)).toThrow(UsageError);
    expect(() => setContainerImage(yaml, "pod.yaml", "c", image)).toThrow(
      "pod.yaml: containers: no container named c (there are: a, b)",
    );
    expect(setContainerImage("version: 1\ncontainers:\n  - name: a\n", "pod.yaml", undefined, image).text).toContain(
      `image: ${image}`,
    );
  });

  it("reports YAML syntax errors with line and column", () => {
    expect(() => setContainerImage("version: 1\ncontainers:\n\t- name: a\n", "my.yaml", "a", image)).toThrow(
      /^my\.yaml:3:1 /,
    );
  });
});
