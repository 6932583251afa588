import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Hex } from "viem";
import { generatePrivateKey, privateKeyToAddress } from "viem/accounts";
import { saveKeystoreFile } from "../../keystore.js";
import { type ParsedArgs, UsageError } from "../args.js";
import type { CommandModule } from "../command-module.js";
import type { Context } from "../config.js";
import { CliError } from "../errors.js";
import { keystorePassword, normalizePrivateKey, publisherAddress, readAllStdin, readHidden } from "../keys.js";
import { fields } from "../output.js";

const noArguments = (args: ParsedArgs, command: string) => {
  if (args.positionals.length > 0) throw new UsageError(`${command}: unexpected argument ${args.positionals[0]}`);
};

/** Encrypts `key` into a new keystore file (never replacing one) and prints the address. */
async function save(ctx: Context, key: Hex, action: string): Promise<void> {
  ctx.secrets.push(key);
  const path = ctx.settings.keystore.value;
  if (existsSync(path))
    throw new CliError(`${path}: a keystore already exists; not overwriting it (--keystore picks another file)`);
  const password = await keystorePassword(ctx.io, { confirm: true });
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  ctx.out.progress(`encrypting the key (scrypt, about a second) ...`);
  await saveKeystoreFile(path, key, password);
  const address = privateKeyToAddress(key);
  ctx.out.result({ address, keystore: path }, () =>
    [
      fields([
        ["address", address],
        ["keystore", `${path} (${action})`],
      ]),
      "",
      "podnet unlocks it with PODNET_KEYSTORE_PASSWORD or asks for the password. The address needs gas (ETH) and",
      "payment tokens before it can lease: podnet balance shows them.",
    ].join("\n"),
  );
}

export const keyNew: CommandModule = {
  options: {},
  help: `Creates a random private key and saves it encrypted (Web3 Secret Storage v3, scrypt) at --keystore
(default ~/.podnet/keystore.json, mode 0600). The password comes from PODNET_KEYSTORE_PASSWORD or is asked twice.
An existing keystore is never overwritten. The key itself is never shown.

example:
  podnet key new`,
  async run(ctx, args) {
    noArguments(args, "key new");
    await save(ctx, generatePrivateKey(), "new key");
  },
};

export const keyImport: CommandModule = {
  options: {},
  help: `Encrypts an existing private key into the keystore. The key (64 hex digits, 0x optional) is read from stdin:
piped, or typed without echo on a terminal. It is never an argument, so it stays out of shell history and ps.

examples:
  podnet key import                       # asks for the key and the password
  PODNET_KEYSTORE_PASSWORD=... podnet key import < key.txt`,
  async run(ctx, args) {
    noArguments(args, "key import");
    let text: string;
    if (ctx.io.stdin.isTTY) text = await readHidden("Private key (hex, not shown): ", ctx.io);
    else text = (await readAllStdin(ctx.io.stdin)).toString("utf8");
    if (text.trim() === "") throw new CliError("stdin: no private key given");
    ctx.secrets.push(text.trim());
    await save(ctx, normalizePrivateKey(text, "stdin"), "imported");
  },
};

export const keyAddress: CommandModule = {
  options: {},
  help: `Prints the address podnet acts as: PODNET_PUBLISHER_KEY's when set, else the keystore's (read from the file,
no password needed).

example:
  podnet key address`,
  async run(ctx, args) {
    noArguments(args, "key address");
    const { address, source } = publisherAddress(ctx.io, ctx.settings.keystore);
    ctx.out.result({ address, source }, () => address);
  },
};
