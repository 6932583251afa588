export {
  accessManagerAbi,
  appVaultAbi,
  appVaultFactoryAbi,
  autoscalerNetworkAbi,
  disputeCourtAbi,
  podnetMarketAbi,
  podnetTestTokenAbi,
  providerRegistryAbi,
  timelockControllerAbi,
} from "./abis.js";
export { isLocalHostName, isPublicAddress, parseIPv4 } from "./addresses.js";
export { type ApiErrorBody, apiErrorBody, apiErrorBodySchema, parseApiErrorBody } from "./api-error.js";
export { type ApiRoute, apiRoute, type HttpMethod, type PathArgs } from "./api-route.js";
export {
  type AppConfig,
  AppConfigError,
  type AppConfigErrorType,
  type AppConfigInput,
  type AppHealthCheck,
  type AppLimits,
  appBidWindowSeconds,
  appConfigHash,
  appConfigJson,
  appConfigJsonSchema,
  appConfigLimits,
  canonicalAppConfig,
  DEFAULT_BID_WINDOW_SECONDS,
  MAX_APP_AMOUNT,
  MAX_APP_CONFIG_BYTES,
  MAX_APP_INSTANCES,
  parseAppConfig,
  parseDurationText,
} from "./app-config.js";
export { assignApps, rendezvousScore, servingNode } from "./assignment.js";
export { decodeAttribute, encodeAttribute } from "./attributes.js";
export { canonicalJson } from "./canonical-json.js";
export { ContentHasher, contentId, isContentId, parseContentId, verifyContentId } from "./content-id.js";
export {
  DEFAULT_CHUNK_SIZE,
  DecryptionError,
  type DecryptionErrorType,
  decodeWrappedKey,
  decryptBytes,
  decryptStream,
  deriveEncryptionKeyPair,
  type EncryptOptions,
  encodeWrappedKey,
  encryptBytes,
  encryptedSize,
  encryptionPublicKeyFromPrivate,
  encryptStream,
  generateContentKey,
  sealBlob,
  unwrapKey,
  wrapKey,
} from "./crypto.js";
export {
  type ContractName,
  contractNames,
  type DeployedContract,
  type Deployment,
  knownDeploymentFile,
  knownDeploymentsDir,
  parseDeployment,
  readDeploymentFor,
} from "./deployments.js";
export {
  type ErrorType,
  PodnetError,
  type PodnetErrorCode,
  type PodnetErrorParameters,
  type PodnetErrorType,
} from "./errors.js";
export {
  BPS,
  bidReservation,
  collateralFor,
  escrowFor,
  feeOf,
  fundedSeconds,
  isExhausted,
  type LeaseEscrow,
  leaseRunsOutAt,
  leaseStatus,
  leaseWithdrawable,
  runsOutAt,
  type Settlement,
  settle,
  splitWithdrawal,
} from "./escrow.js";
export { GAS_HEADROOM_PERCENT, withGasHeadroom } from "./gas.js";
export { proofName, proofValue } from "./host-proof.js";
export {
  type AppResponse,
  type AppSlotJson,
  type AppSlotLeaseJson,
  type EligibleOrderJson,
  type EligibleOrdersResponse,
  indexerApiRoutes,
  type NetworkNodeJson,
  type NetworkNodesResponse,
  type SearchResponse,
  type SearchResultJson,
} from "./indexer-api.js";
export { decodeIngress, encodeIngress, type IngressAddress, MAX_INGRESS_ADDRESSES, parseIPv6 } from "./ingress.js";
export { isProbeRequest, POD_STATE_HEADER, PROBE_HEADER, PROBE_HEADER_VALUE } from "./ingress-headers.js";
export {
  type DarkReportability,
  darkGapReportableUntil,
  darkReportability,
  isDarkGapReportable,
  type StakeLiveness,
} from "./liveness.js";
export {
  canonicalManifest,
  DEFAULT_PIDS_LIMIT,
  formatPath,
  MAX_IDLE_SECONDS,
  MAX_MANIFEST_BYTES,
  MAX_NOFILE,
  MAX_SECRET_FILE_BYTES,
  ManifestError,
  type ManifestErrorType,
  type ManifestIssue,
  manifestBlobs,
  manifestHash,
  manifestResources,
  PIDS_PER_MEMORY_MIB,
  type PodContainer,
  type PodManifest,
  type PodManifestInput,
  type PodVolume,
  parseManifest,
  podManifestJsonSchema,
  registryHost,
} from "./manifest.js";
export {
  erc20PermitAbi,
  type PermitDomain,
  type PermitMessage,
  type PermitSignature,
  permitSignature,
  permitTypedData,
  permitTypes,
  type ReadPermitDomainParameters,
  readPermitDomain,
} from "./permit.js";
export { isValidPricePerSecond, pricePerSecond } from "./pricing.js";
export {
  type AttestationDocument,
  attestationHash,
  bodyIssues,
  type ContainerUsage,
  type ContainerUsageJson,
  type ManifestUpload,
  manifestUploadSchema,
  type PodEvent,
  type PodEventsResponse,
  type PodLogLine,
  type PodPhase,
  type PodStatusResponse,
  type PodUsageResponse,
  type QuoteRequest,
  type QuoteResponse,
  quoteFromResponse,
  quoteRequestSchema,
} from "./provider-api.js";
export { type ProviderApiRoute, providerApiPaths, providerApiRoutes } from "./provider-api-routes.js";
export { hashQuote, quoteDomain, quoteTypedData, quoteTypes } from "./quote.js";
export {
  ERC1271_MAGIC_VALUE,
  type Erc1271RequestCheck,
  erc1271RequestCheck,
  erc1271RequestSignature,
  NonceCache,
  REQUEST_MAX_SKEW_SECONDS,
  RequestAuthError,
  type RequestAuthErrorType,
  type RequestHeaderOptions,
  type RequestNonces,
  type RequestTypedData,
  readRequestHeaders,
  requestDigest,
  requestDomain,
  requestHeaders,
  requestStructHash,
  requestTypedData,
  requestTypes,
  type SignedRequestFields,
  type SignedRequestHeaders,
  signRequest,
  type VerifyRequestOptions,
  verifyRequest,
} from "./request-signing.js";
export { podnetRoles } from "./roles.js";
export {
  type ReadStandingBiddersParameters,
  readStandingBidders,
  standingBidderList,
} from "./standing-bidders.js";
export type { Pricing, Quote, Resources } from "./types.js";
