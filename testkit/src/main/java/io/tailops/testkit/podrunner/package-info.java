/**
 * Real proxies without a kubelet: {@link io.tailops.testkit.podrunner.LocalPodRunner} runs the operator's proxy Pods
 * with the real {@code containerboot}/{@code tailscaled}, {@link io.tailops.testkit.podrunner.PodNetwork} gives
 * kernel-mode pods their network namespaces and the run its addresses, and
 * {@link io.tailops.testkit.podrunner.ServiceProxy} makes Service cluster IPs reach local backends.
 */
package io.tailops.testkit.podrunner;
