// Binds `main` to the process: argv, stdio, environment, Ctrl-C, exit code. Imported by sdk/bin/podnet.mjs.
import { main } from "./main.js";

let interrupt: (() => boolean) | undefined;
process.on("SIGINT", () => {
  if (interrupt?.()) return; // the command stops by itself
  process.stderr.write("\ninterrupted\n");
  process.exit(130);
});
// A write to a closed pipe (`podnet logs -f | head`) ends the program quietly.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

const code = await main(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  onInterrupt: (handler) => {
    interrupt = handler;
  },
});
// Exit once stdout and stderr are flushed: HTTP keep-alive sockets must not hold the process open.
process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
