export {
  accessManagerAbi,
  disputeCourtAbi,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
  timelockControllerAbi,
} from "./abis.js";
export { decodeAttribute, encodeAttribute } from "./attributes.js";
export {
  type ContractName,
  contractNames,
  type DeployedContract,
  type Deployment,
  parseDeployment,
} from "./deployments.js";
export { isValidPricePerSecond, pricePerSecond } from "./pricing.js";
export { hashQuote, quoteDomain, quoteTypes } from "./quote.js";
export { podnetRoles } from "./roles.js";
export type { Pricing, Quote, Resources } from "./types.js";
