#!/usr/bin/env node
// Runs one addon module (argv[2], a path) through tsx, as podnet-worker.mjs runs the worker: the worker's addon
// supervisor (src/admin/addon-supervisor.ts) starts each addon with it.
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

register();
await import(pathToFileURL(process.argv[2]).href);
