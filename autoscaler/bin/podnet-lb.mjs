#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx (a dependency of the repository), so there is no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/lb/bin.ts");
