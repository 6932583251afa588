#!/usr/bin/env node
// The publisher CLI. Runs the TypeScript sources directly through tsx (a dependency of the repository), so there is
// no build step: `node sdk/bin/podnet.mjs <command>` or `npm run podnet -- <command>`.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/bin.ts");
