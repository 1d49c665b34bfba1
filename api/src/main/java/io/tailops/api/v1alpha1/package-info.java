/**
 * Java model of the {@code tailscale.com/v1alpha1} custom resources, field-compatible with the official Tailscale
 * operator v1.94.2: {@link io.tailops.api.v1alpha1.ProxyClass}, {@link io.tailops.api.v1alpha1.Connector},
 * {@link io.tailops.api.v1alpha1.ProxyGroup}, {@link io.tailops.api.v1alpha1.Recorder} and
 * {@link io.tailops.api.v1alpha1.DNSConfig}. All are cluster-scoped with a status subresource. The CRDs the chart
 * installs are generated from these classes at build time; the differences from the official CRDs are listed in
 * {@code chart/src/test/java/io/tailops/chart/OfficialCrdDifferences.java}.
 */
package io.tailops.api.v1alpha1;
