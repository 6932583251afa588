// The decorator that binds every publisher action to a client, like viem's `publicActions`. It imports every action,
// so no action may import it (or a module that does): actions only know `PodnetClient` from ../client.ts.

import { type AcceptAppBidParameters, type AcceptAppBidReturnType, acceptAppBid } from "../actions/accept-app-bid.js";
import { type AcceptBidParameters, type AcceptBidReturnType, acceptBid } from "../actions/accept-bid.js";
import { type AutoscalerHeartbeatReturnType, autoscalerHeartbeat } from "../actions/autoscaler-heartbeat.js";
import {
  type CancelAppOrderParameters,
  type CancelAppOrderReturnType,
  cancelAppOrder,
} from "../actions/cancel-app-order.js";
import { type CancelOrderParameters, type CancelOrderReturnType, cancelOrder } from "../actions/cancel-order.js";
import { type ClearAppSlotParameters, type ClearAppSlotReturnType, clearAppSlot } from "../actions/clear-app-slot.js";
import { type CloseLeaseParameters, type CloseLeaseReturnType, closeLease } from "../actions/close-lease.js";
import { type CreateAppParameters, type CreateAppReturnType, createApp } from "../actions/create-app.js";
import {
  type CreateAppOrderParameters,
  type CreateAppOrderReturnType,
  createAppOrder,
} from "../actions/create-app-order.js";
import { type CreateLeaseParameters, type CreateLeaseReturnType, createLease } from "../actions/create-lease.js";
import { type CreateOrderParameters, type CreateOrderReturnType, createOrder } from "../actions/create-order.js";
import { type DeployPodParameters, type DeployPodReturnType, deployPod } from "../actions/deploy-pod.js";
import { type DestroyAppParameters, type DestroyAppReturnType, destroyApp } from "../actions/destroy-app.js";
import { type EstimateCostParameters, type EstimateCostReturnType, estimateCost } from "../actions/estimate-cost.js";
import { type ExitAutoscalerNodeReturnType, exitAutoscalerNode } from "../actions/exit-autoscaler-node.js";
import {
  type FinalizeOrderParameters,
  type FinalizeOrderReturnType,
  finalizeOrder,
} from "../actions/finalize-order.js";
import {
  type FindProvidersParameters,
  type FindProvidersReturnType,
  findProviders,
} from "../actions/find-providers.js";
import { type FundAppParameters, type FundAppReturnType, fundApp } from "../actions/fund-app.js";
import { type GetAppParameters, type GetAppReturnType, getApp } from "../actions/get-app.js";
import {
  type GetAppNetworkTermsParameters,
  type GetAppNetworkTermsReturnType,
  getAppNetworkTerms,
} from "../actions/get-app-network-terms.js";
import {
  type GetAutoscalerNodeParameters,
  type GetAutoscalerNodeReturnType,
  getAutoscalerNode,
} from "../actions/get-autoscaler-node.js";
import { type GetBalanceParameters, type GetBalanceReturnType, getBalance } from "../actions/get-balance.js";
import { type GetBidsParameters, type GetBidsReturnType, getBids } from "../actions/get-bids.js";
import { type GetLeaseParameters, type GetLeaseReturnType, getLease } from "../actions/get-lease.js";
import {
  type GetLiveAutoscalerNodesParameters,
  type GetLiveAutoscalerNodesReturnType,
  getLiveAutoscalerNodes,
} from "../actions/get-live-autoscaler-nodes.js";
import { type GetPodEventsParameters, type GetPodEventsReturnType, getPodEvents } from "../actions/get-pod-events.js";
import { type GetPodLogsParameters, type GetPodLogsReturnType, getPodLogs } from "../actions/get-pod-logs.js";
import { type GetPodStatusParameters, type GetPodStatusReturnType, getPodStatus } from "../actions/get-pod-status.js";
import { type GetPodUsageParameters, type GetPodUsageReturnType, getPodUsage } from "../actions/get-pod-usage.js";
import { type GetProviderParameters, type GetProviderReturnType, getProvider } from "../actions/get-provider.js";
import { type GetQuoteParameters, type GetQuoteReturnType, getQuote } from "../actions/get-quote.js";
import { type OpenDisputeParameters, type OpenDisputeReturnType, openDispute } from "../actions/open-dispute.js";
import {
  type PredictAppAddressParameters,
  type PredictAppAddressReturnType,
  predictAppAddress,
} from "../actions/predict-app-address.js";
import { type PrepareImageParameters, type PrepareImageReturnType, prepareImage } from "../actions/prepare-image.js";
import {
  type PrepareSecretParameters,
  type PrepareSecretReturnType,
  prepareSecret,
} from "../actions/prepare-secret.js";
import {
  type RegisterAutoscalerNodeParameters,
  type RegisterAutoscalerNodeReturnType,
  registerAutoscalerNode,
} from "../actions/register-autoscaler-node.js";
import { type ReportDarkParameters, type ReportDarkReturnType, reportDark } from "../actions/report-dark.js";
import { type SetAppConfigParameters, type SetAppConfigReturnType, setAppConfig } from "../actions/set-app-config.js";
import {
  type SetAppControllerParameters,
  type SetAppControllerReturnType,
  setAppController,
} from "../actions/set-app-controller.js";
import { type SetAppLimitsParameters, type SetAppLimitsReturnType, setAppLimits } from "../actions/set-app-limits.js";
import {
  type SetAppNetworkTermsParameters,
  type SetAppNetworkTermsReturnType,
  setAppNetworkTerms,
} from "../actions/set-app-network-terms.js";
import { type SetAppSpecParameters, type SetAppSpecReturnType, setAppSpec } from "../actions/set-app-spec.js";
import { type TopUpParameters, type TopUpReturnType, topUp } from "../actions/top-up.js";
import {
  type UpdateAppLeaseSpecParameters,
  type UpdateAppLeaseSpecReturnType,
  updateAppLeaseSpec,
} from "../actions/update-app-lease-spec.js";
import { type UpdatePodParameters, type UpdatePodReturnType, updatePod } from "../actions/update-pod.js";
import { type WaitForLeaseParameters, type WaitForLeaseReturnType, waitForLease } from "../actions/wait-for-lease.js";
import { type WaitForPodParameters, type WaitForPodReturnType, waitForPod } from "../actions/wait-for-pod.js";
import {
  type WithdrawAutoscalerNodeStakeReturnType,
  withdrawAutoscalerNodeStake,
} from "../actions/withdraw-autoscaler-node-stake.js";
import {
  type WithdrawFromAppParameters,
  type WithdrawFromAppReturnType,
  withdrawFromApp,
} from "../actions/withdraw-from-app.js";
import type { PodnetClient } from "../client.js";

/** Every action, bound to a client (`client.getQuote(params)` is `getQuote(client, params)`). */
export type PodnetActions = {
  findProviders: (params: FindProvidersParameters) => Promise<FindProvidersReturnType>;
  getProvider: (params: GetProviderParameters) => Promise<GetProviderReturnType>;
  getQuote: (params: GetQuoteParameters) => Promise<GetQuoteReturnType>;
  estimateCost: (params: EstimateCostParameters) => Promise<EstimateCostReturnType>;
  createLease: (params: CreateLeaseParameters) => Promise<CreateLeaseReturnType>;
  createOrder: (params: CreateOrderParameters) => Promise<CreateOrderReturnType>;
  getBids: (params: GetBidsParameters) => Promise<GetBidsReturnType>;
  acceptBid: (params: AcceptBidParameters) => Promise<AcceptBidReturnType>;
  cancelOrder: (params: CancelOrderParameters) => Promise<CancelOrderReturnType>;
  finalizeOrder: (params: FinalizeOrderParameters) => Promise<FinalizeOrderReturnType>;
  waitForLease: (params: WaitForLeaseParameters) => Promise<WaitForLeaseReturnType>;
  prepareImage: (params: PrepareImageParameters) => Promise<PrepareImageReturnType>;
  prepareSecret: (params: PrepareSecretParameters) => Promise<PrepareSecretReturnType>;
  deployPod: (params: DeployPodParameters) => Promise<DeployPodReturnType>;
  updatePod: (params: UpdatePodParameters) => Promise<UpdatePodReturnType>;
  getPodStatus: (params: GetPodStatusParameters) => Promise<GetPodStatusReturnType>;
  getPodUsage: (params: GetPodUsageParameters) => Promise<GetPodUsageReturnType>;
  getPodEvents: (params: GetPodEventsParameters) => Promise<GetPodEventsReturnType>;
  getPodLogs: (params: GetPodLogsParameters) => Promise<GetPodLogsReturnType>;
  waitForPod: (params: WaitForPodParameters) => Promise<WaitForPodReturnType>;
  topUp: (params: TopUpParameters) => Promise<TopUpReturnType>;
  closeLease: (params: CloseLeaseParameters) => Promise<CloseLeaseReturnType>;
  getLease: (params: GetLeaseParameters) => Promise<GetLeaseReturnType>;
  getBalance: (params?: GetBalanceParameters) => Promise<GetBalanceReturnType>;
  openDispute: (params: OpenDisputeParameters) => Promise<OpenDisputeReturnType>;
  reportDark: (params: ReportDarkParameters) => Promise<ReportDarkReturnType>;
  clearAppSlot: (params: ClearAppSlotParameters) => Promise<ClearAppSlotReturnType>;
  acceptAppBid: (params: AcceptAppBidParameters) => Promise<AcceptAppBidReturnType>;
  cancelAppOrder: (params: CancelAppOrderParameters) => Promise<CancelAppOrderReturnType>;
  createAppOrder: (params: CreateAppOrderParameters) => Promise<CreateAppOrderReturnType>;
  updateAppLeaseSpec: (params: UpdateAppLeaseSpecParameters) => Promise<UpdateAppLeaseSpecReturnType>;
  createApp: (params: CreateAppParameters) => Promise<CreateAppReturnType>;
  destroyApp: (params: DestroyAppParameters) => Promise<DestroyAppReturnType>;
  fundApp: (params: FundAppParameters) => Promise<FundAppReturnType>;
  getApp: (params: GetAppParameters) => Promise<GetAppReturnType>;
  registerAutoscalerNode: (params: RegisterAutoscalerNodeParameters) => Promise<RegisterAutoscalerNodeReturnType>;
  autoscalerHeartbeat: () => Promise<AutoscalerHeartbeatReturnType>;
  exitAutoscalerNode: () => Promise<ExitAutoscalerNodeReturnType>;
  withdrawAutoscalerNodeStake: () => Promise<WithdrawAutoscalerNodeStakeReturnType>;
  getAutoscalerNode: (params: GetAutoscalerNodeParameters) => Promise<GetAutoscalerNodeReturnType>;
  getLiveAutoscalerNodes: (params?: GetLiveAutoscalerNodesParameters) => Promise<GetLiveAutoscalerNodesReturnType>;
  setAppNetworkTerms: (params: SetAppNetworkTermsParameters) => Promise<SetAppNetworkTermsReturnType>;
  getAppNetworkTerms: (params: GetAppNetworkTermsParameters) => Promise<GetAppNetworkTermsReturnType>;
  setAppConfig: (params: SetAppConfigParameters) => Promise<SetAppConfigReturnType>;
  setAppController: (params: SetAppControllerParameters) => Promise<SetAppControllerReturnType>;
  setAppLimits: (params: SetAppLimitsParameters) => Promise<SetAppLimitsReturnType>;
  setAppSpec: (params: SetAppSpecParameters) => Promise<SetAppSpecReturnType>;
  withdrawFromApp: (params: WithdrawFromAppParameters) => Promise<WithdrawFromAppReturnType>;
  predictAppAddress: (params: PredictAppAddressParameters) => Promise<PredictAppAddressReturnType>;
};

/**
 * Binds every action to `client`, like viem's `publicActions`: the decorator `createPodnetClient` extends the base
 * client with. Use it to build a client by hand, or to add the actions next to your own.
 *
 * @example
 * import { createPodnetBaseClient, podnetActions } from "@podnet/sdk";
 *
 * const client = createPodnetBaseClient({ publicClient, walletClient, deployment }).extend(podnetActions);
 * const { image } = await client.prepareImage({ tarball: "web.tar" });
 */
export function podnetActions(client: PodnetClient): PodnetActions {
  return {
    findProviders: (params) => findProviders(client, params),
    getProvider: (params) => getProvider(client, params),
    getQuote: (params) => getQuote(client, params),
    estimateCost: (params) => estimateCost(client, params),
    createLease: (params) => createLease(client, params),
    createOrder: (params) => createOrder(client, params),
    getBids: (params) => getBids(client, params),
    acceptBid: (params) => acceptBid(client, params),
    cancelOrder: (params) => cancelOrder(client, params),
    finalizeOrder: (params) => finalizeOrder(client, params),
    waitForLease: (params) => waitForLease(client, params),
    prepareImage: (params) => prepareImage(client, params),
    prepareSecret: (params) => prepareSecret(client, params),
    deployPod: (params) => deployPod(client, params),
    updatePod: (params) => updatePod(client, params),
    getPodStatus: (params) => getPodStatus(client, params),
    getPodUsage: (params) => getPodUsage(client, params),
    getPodEvents: (params) => getPodEvents(client, params),
    getPodLogs: (params) => getPodLogs(client, params),
    waitForPod: (params) => waitForPod(client, params),
    topUp: (params) => topUp(client, params),
    closeLease: (params) => closeLease(client, params),
    getLease: (params) => getLease(client, params),
    getBalance: (params) => getBalance(client, params),
    openDispute: (params) => openDispute(client, params),
    reportDark: (params) => reportDark(client, params),
    clearAppSlot: (params) => clearAppSlot(client, params),
    acceptAppBid: (params) => acceptAppBid(client, params),
    cancelAppOrder: (params) => cancelAppOrder(client, params),
    createAppOrder: (params) => createAppOrder(client, params),
    updateAppLeaseSpec: (params) => updateAppLeaseSpec(client, params),
    createApp: (params) => createApp(client, params),
    destroyApp: (params) => destroyApp(client, params),
    fundApp: (params) => fundApp(client, params),
    getApp: (params) => getApp(client, params),
    registerAutoscalerNode: (params) => registerAutoscalerNode(client, params),
    autoscalerHeartbeat: () => autoscalerHeartbeat(client),
    exitAutoscalerNode: () => exitAutoscalerNode(client),
    withdrawAutoscalerNodeStake: () => withdrawAutoscalerNodeStake(client),
    getAutoscalerNode: (params) => getAutoscalerNode(client, params),
    getLiveAutoscalerNodes: (params) => getLiveAutoscalerNodes(client, params),
    setAppNetworkTerms: (params) => setAppNetworkTerms(client, params),
    getAppNetworkTerms: (params) => getAppNetworkTerms(client, params),
    setAppConfig: (params) => setAppConfig(client, params),
    setAppController: (params) => setAppController(client, params),
    setAppLimits: (params) => setAppLimits(client, params),
    setAppSpec: (params) => setAppSpec(client, params),
    withdrawFromApp: (params) => withdrawFromApp(client, params),
    predictAppAddress: (params) => predictAppAddress(client, params),
  };
}
