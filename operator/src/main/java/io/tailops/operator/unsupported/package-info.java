/**
 * Kinds of {@code tailscale.com/v1alpha1} that this operator does not implement yet (none at present: every kind is
 * served) are
 * reported, never silently ignored: every object of such a kind gets the official condition type of its kind with
 * status {@code False} and reason {@code NotSupported}, a Warning Event, and a line in {@code doctor} (the chart's NOTES
 * say it too). The objects themselves are left as they are.
 *
 * <p>One small reconciler class per kind ({@code DNSConfigNotSupported}, ...) and one line for it in
 * {@link io.tailops.operator.unsupported.UnsupportedKinds}: when a kind gets implemented, delete both.
 */
package io.tailops.operator.unsupported;
