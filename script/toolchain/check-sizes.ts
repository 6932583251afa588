/**
 * Fails when a deployable contract from contracts/src exceeds EIP-170's 24,576-byte runtime limit or EIP-3860's
 * 49,152-byte initcode limit. (`forge build --sizes` also counts test contracts, which never go on chain.)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const outDir = join(import.meta.dirname, "..", "..", process.env.FOUNDRY_OUT ?? "contracts/out");
const RUNTIME_LIMIT = 24_576;
const INITCODE_LIMIT = 49_152;

type Artifact = {
  bytecode: { object: string };
  deployedBytecode: { object: string };
  metadata?: { settings: { compilationTarget: Record<string, string> } };
};

const bytes = (hex: string) => (hex.startsWith("0x") ? hex.length - 2 : hex.length) / 2;

let failed = false;
for (const dir of readdirSync(outDir)) {
  if (!dir.endsWith(".sol")) continue;
  for (const file of readdirSync(join(outDir, dir))) {
    const artifact = JSON.parse(readFileSync(join(outDir, dir, file), "utf8")) as Artifact;
    const [source] = Object.keys(artifact.metadata?.settings.compilationTarget ?? {});
    const runtime = bytes(artifact.deployedBytecode.object);
    if (!source?.startsWith("contracts/src/") || runtime === 0) continue;
    const initcode = bytes(artifact.bytecode.object);
    const ok = runtime <= RUNTIME_LIMIT && initcode <= INITCODE_LIMIT;
    failed ||= !ok;
    const name = file.replace(/\.json$/, "");
    console.log(
      `${ok ? "ok  " : "FAIL"} ${name.padEnd(20)} runtime ${runtime} / ${RUNTIME_LIMIT} B, initcode ${initcode} / ${INITCODE_LIMIT} B`,
    );
  }
}
if (failed) {
  console.error("A contract exceeds the EVM's code size limits.");
  process.exit(1);
}
