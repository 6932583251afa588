/**
 * Opt-in (PODNET_TEST_LATER_GROUPS_SIGNAL=<file>): creates the file when the first test file of a later group starts
 * (sequence.groupOrder `from` or more, vitest.config.ts: the engine restart, the Docker-free files, the files that run
 * last). `npm test` (script/toolchain/test.sh) starts the contracts' checks then: the files that run four at a time
 * keep both cores busy, the later groups leave one idle for minutes. One vitest run for all the end-to-end files, not
 * one per part: the second run's start cost 16 s of wall between the parts (2f790f2's fresh-clone run), the file comes
 * at once.
 */
import { writeFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

export default class LaterGroupsSignal implements Reporter {
  private signalled = false;

  constructor(
    private readonly file: string,
    /** The first group order that counts as later. */
    private readonly from: number,
  ) {}

  onTestModuleStart(module: TestModule) {
    if (this.signalled || (module.project.config.sequence.groupOrder ?? 0) < this.from) return;
    this.signalled = true;
    writeFileSync(this.file, `${module.project.name} ${module.moduleId}\n`);
  }
}
