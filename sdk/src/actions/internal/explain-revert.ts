import { ContractError } from "../../errors.js";

/** Per custom error name: its arguments said in words. */
export type RevertExplanations = Record<string, (args: readonly unknown[]) => string>;

/** An argument of a custom error as text (bigints and addresses as they are). */
export const argText = (value: unknown) => String(value);

/**
 * A ContractError whose custom error `explanations` knows, rebuilt with the error explained in words after its raw
 * form; anything else unchanged. The vault's and the network's write helpers share it.
 */
export function explainRevert(error: unknown, explanations: RevertExplanations): unknown {
  if (!(error instanceof ContractError) || error.errorName === undefined) return error;
  const explain = explanations[error.errorName];
  if (!explain) return error;
  const args = error.args ?? [];
  const shown = `reverted with ${error.errorName}(${args.map(argText).join(", ")}): ${explain(args)}`;
  return new ContractError(error.functionName, error.errorName, error.args, shown, error.transactionHash, {
    cause: error.cause ?? error,
  });
}
