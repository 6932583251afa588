// The publisher SDK. Its actions (quotes, leases, orders, deploy) arrive with the [SDK] issue; today it exposes
// the protocol layer that every package shares.
export {
  accessManagerAbi,
  type ContractName,
  contractNames,
  type DeployedContract,
  type Deployment,
  decodeAttribute,
  encodeAttribute,
  hashQuote,
  isValidPricePerSecond,
  type Pricing,
  parseDeployment,
  podnetMarketAbi,
  podnetTestTokenAbi,
  pricePerSecond,
  providerRegistryAbi,
  type Quote,
  quoteDomain,
  quoteTypes,
  type Resources,
} from "./protocol/index.js";
