/**
 * A real tailnet on loopback for end-to-end tests, from Go-built binaries ({@code tools/build-binaries.sh --only
 * tailscale,headscale}): {@link io.tailops.testkit.headscale.HeadscaleServer} (headscale v0.29.2 control server with
 * embedded DERP and STUN), {@link io.tailops.testkit.headscale.TailnetClient} (a userspace tailscaled node with SOCKS5
 * and HTTP proxies, so Java code reaches tailnet names), {@link io.tailops.testkit.headscale.ContainerbootProcess}
 * (the proxy image's containerboot outside a kubelet, writing its state Secret to a real API server),
 * {@link io.tailops.testkit.WatchedProcess} (processes that never outlive the JVM) and
 * {@link io.tailops.testkit.headscale.TailnetEnv} (the environment that keeps every tailscaled on loopback).
 */
package io.tailops.testkit.headscale;
