// The publisher SDK: viem-style actions (quotes, leases, orders, deploy, pod status) over the protocol layer that
// every package shares. `createPodnetClient` binds every action (the base client extended with `podnetActions`);
// each is also exported as a standalone function taking the client first.

export {
  type AcceptAppBidErrorType,
  type AcceptAppBidParameters,
  type AcceptAppBidReturnType,
  acceptAppBid,
} from "./actions/accept-app-bid.js";
export {
  type AcceptBidErrorType,
  type AcceptBidParameters,
  type AcceptBidReturnType,
  acceptBid,
} from "./actions/accept-bid.js";
export {
  type AutoscalerHeartbeatErrorType,
  type AutoscalerHeartbeatReturnType,
  autoscalerHeartbeat,
} from "./actions/autoscaler-heartbeat.js";
export {
  type CancelAppOrderErrorType,
  type CancelAppOrderParameters,
  type CancelAppOrderReturnType,
  cancelAppOrder,
} from "./actions/cancel-app-order.js";
export {
  type CancelOrderErrorType,
  type CancelOrderParameters,
  type CancelOrderReturnType,
  cancelOrder,
} from "./actions/cancel-order.js";
export {
  type ClearAppSlotErrorType,
  type ClearAppSlotParameters,
  type ClearAppSlotReturnType,
  clearAppSlot,
} from "./actions/clear-app-slot.js";
export {
  type CloseLeaseErrorType,
  type CloseLeaseParameters,
  type CloseLeaseReturnType,
  closeLease,
} from "./actions/close-lease.js";
export {
  type CreateAppErrorType,
  type CreateAppParameters,
  type CreateAppReturnType,
  createApp,
} from "./actions/create-app.js";
export {
  type CreateAppOrderErrorType,
  type CreateAppOrderParameters,
  type CreateAppOrderReturnType,
  createAppOrder,
} from "./actions/create-app-order.js";
export {
  type CreateLeaseErrorType,
  type CreateLeaseParameters,
  type CreateLeaseReturnType,
  createLease,
} from "./actions/create-lease.js";
export {
  type CreateOrderErrorType,
  type CreateOrderParameters,
  type CreateOrderReturnType,
  createOrder,
  type OrderRequirements,
} from "./actions/create-order.js";
export {
  type BlobDelivery,
  type DeployPodErrorType,
  type DeployPodParameters,
  type DeployPodReturnType,
  deployPod,
  type UploadProgress,
} from "./actions/deploy-pod.js";
export {
  type DestroyAppErrorType,
  type DestroyAppParameters,
  type DestroyAppReturnType,
  destroyApp,
} from "./actions/destroy-app.js";
export {
  costOf,
  type EstimateCostErrorType,
  type EstimateCostParameters,
  type EstimateCostReturnType,
  estimateCost,
} from "./actions/estimate-cost.js";
export {
  type ExitAutoscalerNodeErrorType,
  type ExitAutoscalerNodeReturnType,
  exitAutoscalerNode,
} from "./actions/exit-autoscaler-node.js";
export {
  type FinalizeOrderErrorType,
  type FinalizeOrderParameters,
  type FinalizeOrderReturnType,
  finalizeOrder,
} from "./actions/finalize-order.js";
export {
  type FindProvidersErrorType,
  type FindProvidersParameters,
  type FindProvidersReturnType,
  type FoundProvider,
  findProviders,
} from "./actions/find-providers.js";
export {
  type FundAppErrorType,
  type FundAppParameters,
  type FundAppReturnType,
  fundApp,
} from "./actions/fund-app.js";
export {
  type AppSlot,
  type GetAppErrorType,
  type GetAppParameters,
  type GetAppReturnType,
  getApp,
} from "./actions/get-app.js";
export {
  type GetAppNetworkTermsErrorType,
  type GetAppNetworkTermsParameters,
  type GetAppNetworkTermsReturnType,
  getAppNetworkTerms,
} from "./actions/get-app-network-terms.js";
export {
  type GetAutoscalerNodeErrorType,
  type GetAutoscalerNodeParameters,
  type GetAutoscalerNodeReturnType,
  getAutoscalerNode,
} from "./actions/get-autoscaler-node.js";
export {
  type GetBalanceErrorType,
  type GetBalanceParameters,
  type GetBalanceReturnType,
  getBalance,
} from "./actions/get-balance.js";
export {
  type BidStatus,
  type GetBidsErrorType,
  type GetBidsParameters,
  type GetBidsReturnType,
  getBids,
  type OrderBid,
} from "./actions/get-bids.js";
export {
  type GetLeaseErrorType,
  type GetLeaseParameters,
  type GetLeaseReturnType,
  getLease,
} from "./actions/get-lease.js";
export {
  type GetLiveAutoscalerNodesErrorType,
  type GetLiveAutoscalerNodesParameters,
  type GetLiveAutoscalerNodesReturnType,
  getLiveAutoscalerNodes,
} from "./actions/get-live-autoscaler-nodes.js";
export {
  type GetPodEventsErrorType,
  type GetPodEventsParameters,
  type GetPodEventsReturnType,
  getPodEvents,
  type PodEvent,
} from "./actions/get-pod-events.js";
export {
  type GetPodLogsErrorType,
  type GetPodLogsParameters,
  type GetPodLogsReturnType,
  getPodLogs,
  type PodLogLine,
} from "./actions/get-pod-logs.js";
export {
  type GetPodStatusErrorType,
  type GetPodStatusParameters,
  type GetPodStatusReturnType,
  getPodStatus,
  type PodPhase,
} from "./actions/get-pod-status.js";
// ContainerUsage, the type of its containers, comes with the protocol layer below.
export {
  type GetPodUsageErrorType,
  type GetPodUsageParameters,
  type GetPodUsageReturnType,
  getPodUsage,
} from "./actions/get-pod-usage.js";
export {
  type GetProviderErrorType,
  type GetProviderParameters,
  type GetProviderReturnType,
  getProvider,
  type ProviderStatus,
} from "./actions/get-provider.js";
export {
  type GetQuoteErrorType,
  type GetQuoteParameters,
  type GetQuoteReturnType,
  getQuote,
  type QuotePolicy,
} from "./actions/get-quote.js";
export type { AutoscalerNodeProfile, AutoscalerNodeStatus } from "./actions/internal/autoscaler-network.js";
export {
  type OpenDisputeErrorType,
  type OpenDisputeParameters,
  type OpenDisputeReturnType,
  openDispute,
} from "./actions/open-dispute.js";
export {
  type PredictAppAddressErrorType,
  type PredictAppAddressParameters,
  type PredictAppAddressReturnType,
  predictAppAddress,
} from "./actions/predict-app-address.js";
export {
  type PrepareImageErrorType,
  type PrepareImageParameters,
  type PrepareImageReturnType,
  prepareImage,
} from "./actions/prepare-image.js";
export {
  type PrepareSecretErrorType,
  type PrepareSecretParameters,
  type PrepareSecretReturnType,
  prepareSecret,
} from "./actions/prepare-secret.js";
export {
  type RegisterAutoscalerNodeErrorType,
  type RegisterAutoscalerNodeParameters,
  type RegisterAutoscalerNodeReturnType,
  registerAutoscalerNode,
} from "./actions/register-autoscaler-node.js";
export {
  type ReportDarkErrorType,
  type ReportDarkParameters,
  type ReportDarkReturnType,
  reportDark,
} from "./actions/report-dark.js";
export {
  type SetAppConfigErrorType,
  type SetAppConfigParameters,
  type SetAppConfigReturnType,
  setAppConfig,
} from "./actions/set-app-config.js";
export {
  type SetAppControllerErrorType,
  type SetAppControllerParameters,
  type SetAppControllerReturnType,
  setAppController,
} from "./actions/set-app-controller.js";
export {
  type SetAppLimitsErrorType,
  type SetAppLimitsParameters,
  type SetAppLimitsReturnType,
  setAppLimits,
} from "./actions/set-app-limits.js";
export {
  type AppNetworkTerms,
  type SetAppNetworkTermsErrorType,
  type SetAppNetworkTermsParameters,
  type SetAppNetworkTermsReturnType,
  setAppNetworkTerms,
} from "./actions/set-app-network-terms.js";
export {
  type SetAppSpecErrorType,
  type SetAppSpecParameters,
  type SetAppSpecReturnType,
  setAppSpec,
} from "./actions/set-app-spec.js";
export { type TopUpErrorType, type TopUpParameters, type TopUpReturnType, topUp } from "./actions/top-up.js";
export {
  type UpdateAppLeaseSpecErrorType,
  type UpdateAppLeaseSpecParameters,
  type UpdateAppLeaseSpecReturnType,
  updateAppLeaseSpec,
} from "./actions/update-app-lease-spec.js";
export {
  type UpdatePodErrorType,
  type UpdatePodParameters,
  type UpdatePodReturnType,
  updatePod,
} from "./actions/update-pod.js";
export {
  type WaitForLeaseErrorType,
  type WaitForLeaseParameters,
  type WaitForLeaseReturnType,
  waitForLease,
} from "./actions/wait-for-lease.js";
export {
  type WaitForPodErrorType,
  type WaitForPodParameters,
  type WaitForPodReturnType,
  waitForPod,
} from "./actions/wait-for-pod.js";
export {
  type WithdrawAutoscalerNodeStakeErrorType,
  type WithdrawAutoscalerNodeStakeReturnType,
  withdrawAutoscalerNodeStake,
} from "./actions/withdraw-autoscaler-node-stake.js";
export {
  type WithdrawFromAppErrorType,
  type WithdrawFromAppParameters,
  type WithdrawFromAppReturnType,
  withdrawFromApp,
} from "./actions/withdraw-from-app.js";
export {
  AppYamlError,
  type AppYamlErrorType,
  appYamlTemplate,
  MAX_APP_YAML_BYTES,
  parseAppYaml,
  setAppYamlTarget,
} from "./app-yaml.js";
export {
  BLOB_CACHE_KEY_MESSAGE,
  BlobCache,
  type BlobCacheEntry,
  BlobSizeError,
  DEFAULT_BLOB_CACHE_DIR,
  deriveSelfEncryptionKey,
  type SelfEncryptionKey,
} from "./blob-cache.js";
export {
  type CreatePodnetBaseClientErrorType,
  createPodnetBaseClient,
  DEFAULT_PROVIDER_TIMEOUT_MS,
  type PodnetBaseClient,
  type PodnetClient,
  type PodnetClientConfig,
} from "./client.js";
export {
  type CreatePodnetClientErrorType,
  createPodnetClient,
  type PodnetClientWithActions,
} from "./create-podnet-client.js";
export { type PodnetActions, podnetActions } from "./decorators/podnet.js";
export {
  BlobCacheError,
  type BlobCacheErrorType,
  BlobNotFoundError,
  type BlobNotFoundErrorType,
  ContractError,
  type ContractErrorType,
  type ErrorType,
  IndexerError,
  type IndexerErrorType,
  InsufficientAllowanceError,
  type InsufficientAllowanceErrorType,
  InsufficientBalanceError,
  type InsufficientBalanceErrorType,
  InvalidParameterError,
  type InvalidParameterErrorType,
  NotFoundError,
  type NotFoundErrorType,
  NotPublisherError,
  type NotPublisherErrorType,
  PodFailedError,
  type PodFailedErrorType,
  PodnetError,
  type PodnetErrorCode,
  type PodnetErrorParameters,
  type PodnetErrorType,
  ProviderApiError,
  type ProviderApiErrorType,
  type QuoteCheck,
  QuoteVerificationError,
  type QuoteVerificationErrorType,
  SpecHashMismatchError,
  type SpecHashMismatchErrorType,
  TimeoutError,
  type TimeoutErrorType,
  WalletRequiredError,
  type WalletRequiredErrorType,
} from "./errors.js";
export {
  DEFAULT_CPU_MILLIS,
  DEFAULT_MEMORY_MIB,
  DEFAULT_TMPFS_MIB,
  DEFAULT_VOLUME_MIB,
  HTTP_PORTS,
  importCompose,
} from "./import/compose.js";
export {
  AKASH_BLOCK_SECONDS,
  importSdl,
  type SdlImportResult,
  type SdlPriceCap,
  type SdlPriceRate,
  sdlPricePerSecond,
} from "./import/sdl.js";
export {
  ImportError,
  type ImportErrorType,
  type ImportIssue,
  type ImportOptions,
  type ImportPlaceholder,
  type ImportResult,
  PLACEHOLDER_DIGEST,
  PLACEHOLDER_SECRET_BLOB,
} from "./import/shared.js";
export {
  DEFAULT_SCRYPT_N,
  decryptKeystore,
  type EncryptKeystoreOptions,
  encryptKeystore,
  type Keystore,
  KeystoreError,
  type KeystoreErrorType,
  loadKeystoreFile,
  saveKeystoreFile,
} from "./keystore.js";
export {
  type HandAppToNetworkErrorType,
  type HandAppToNetworkParameters,
  type HandAppToNetworkReturnType,
  type HandoverResult,
  handAppToNetwork,
  type NetworkNode,
} from "./network-handover.js";
export {
  checkHandoverIssuedAt,
  HANDOVER_MAX_FUTURE_SECONDS,
  type HandoverBlobKey,
  type HandoverBundle,
  type HandoverFields,
  type HandoverRecord,
  handoverBlobIndexHash,
  handoverDomain,
  handoverHashes,
  handoverTypedData,
  handoverTypes,
  parseHandoverBundle,
  recoverHandoverSigner,
  signHandoverBundle,
} from "./network-handover-bundle.js";
export {
  MAX_POD_SPEC_BYTES,
  PodSpecError,
  type PodSpecErrorType,
  type PodSpecIssue,
  parsePodSpec,
  parseYamlFile,
  podSpecTemplate,
  type YamlFileRules,
} from "./pod-spec.js";
// The protocol layer (ABIs, pricing, EIP-712 quotes, manifest schema and hash, request signing, encryption, content
// ids): also importable alone as "@podnet/sdk/protocol".
export * from "./protocol/index.js";
export {
  parseRecipientKey,
  type SealedBlobKey,
  type ShareBlobKeysParameters,
  type SharedBlob,
  sealBlobKeys,
  shareBlobKeys,
} from "./share-blob-keys.js";
