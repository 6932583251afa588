/**
 * Headers of the provider's pod ingress that other parts of Podnet rely on.
 *
 * A health probe (the autoscaler's, a load balancer's) sends {@link PROBE_HEADER}. The ingress does not count such a
 * request as activity of a scale-to-zero pod, so probes neither keep a pod awake nor wake it: a probe for a sleeping
 * pod is answered by the ingress itself, `204` with {@link POD_STATE_HEADER}` = asleep` (the provider is up and the pod
 * wakes on the next real request, so the instance is healthy). A probe for an awake pod goes to the pod as any request.
 * Anyone may send the header: all it tells a stranger is whether the pod sleeps.
 */

/** Request header marking a health probe; its value is {@link PROBE_HEADER_VALUE}. */
export const PROBE_HEADER = "x-podnet-probe";
export const PROBE_HEADER_VALUE = "1";
/** Response header of a probe the ingress answered for a sleeping pod: `asleep`. */
export const POD_STATE_HEADER = "x-podnet-pod";

/** Whether a request's headers mark it as a health probe. */
export function isProbeRequest(headers: Record<string, string | string[] | undefined>): boolean {
  return headers[PROBE_HEADER] === PROBE_HEADER_VALUE;
}
