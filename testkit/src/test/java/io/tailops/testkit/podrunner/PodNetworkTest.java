package io.tailops.testkit.podrunner;

import io.tailops.testkit.OneShotCommand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The pod network's plumbing and its cleanup, including the leftovers of a run that died (root only). */
class PodNetworkTest {

  /**
   * A Service port is served through the service router, from a pod's namespace and from the root namespace, while
   * another program holds that port on every address of this machine (8080, the official operator's metrics port):
   * nothing binds it here, the router sends it to a relay port the kernel picked. Then everything is removed.
   */
  @Test
  void servicePortsAreReachedThroughTheServiceRouterEvenWhenTheHostPortIsTakenAndEverythingIsRemoved()
      throws Exception {
    assumeTrue(PodNetwork.probe().kernelMode(), "no network namespaces: " + PodNetwork.probe().reason());
    String prefix;
    String serviceCidr;
    try (ServerSocket held = holdOnEveryAddress(8080); PodNetwork net = PodNetwork.create()) {
      assertThat(net.routesServices()).as("service router (needs nft: Debian package nftables)").isTrue();
      prefix = "tsop" + net.slot();
      serviceCidr = net.serviceCidr();
      String svcIp = net.serviceCidr().replace(".0/24", ".10");
      try (ServerSocket relay = new ServerSocket()) {
        relay.bind(new InetSocketAddress(net.hostAddress(), 0));
        net.mapServicePort(svcIp, 8080, (InetSocketAddress) relay.getLocalSocketAddress());
        net.mapServicePort(svcIp, 8080, (InetSocketAddress) relay.getLocalSocketAddress()); // replaces
        PodNetwork.Sandbox box = net.sandbox("test");
        assertThat(Host.run("ip", "netns", "list").stdout()).contains(box.netns());
        // from inside the pod's namespace: eth0, the router (DNAT, masquerade), the relay on the node address
        Thread accept = acceptOnce(relay);
        List<String> cmd = new java.util.ArrayList<>(box.execPrefix());
        cmd.addAll(List.of("/bin/bash", "-c", "exec 3<>/dev/tcp/" + svcIp + "/8080; cat <&3"));
        OneShotCommand.Result r = Host.run(cmd, java.util.Map.of(), java.time.Duration.ofSeconds(10));
        accept.join(5000);
        assertThat(r.stdout()).as("peer seen by the relay (%s)", r.stderr()).isEqualTo(net.routerAddress());
        // nothing else is reachable from a pod: its default route ends at the router (TEST-NET-2 address)
        List<String> out = new java.util.ArrayList<>(box.execPrefix());
        out.addAll(List.of("timeout", "5", "/bin/bash", "-c", "exec 3<>/dev/tcp/198.51.100.7/80"));
        OneShotCommand.Result away = Host.run(out, java.util.Map.of(), java.time.Duration.ofSeconds(10));
        assertThat(away.ok()).as("a connection out of the pod network").isFalse();
        assertThat(away.stderr()).containsAnyOf("unreachable", "No route to host");
        // from the root namespace (userspace proxies, the operator)
        accept = acceptOnce(relay);
        try (Socket c = new Socket()) {
          c.connect(new InetSocketAddress(svcIp, 8080), 5000);
          assertThat(new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
              .isEqualTo(net.routerAddress());
        }
        accept.join(5000);
        // unmapped: nothing answers any more
        net.unmapServicePort(svcIp, 8080);
        try (Socket c = new Socket()) {
          org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.connect(new InetSocketAddress(svcIp, 8080),
              1000)).isInstanceOf(IOException.class);
        }
        String userspaceIp = net.podAddress();
        assertThat(userspaceIp).startsWith("10.244." + net.slot() + ".").isNotEqualTo(box.ip())
            .isNotEqualTo(net.routerAddress());
        box.close();
        assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(box.netns());
      }
    }
    assertThat(Host.run("ip", "-o", "link", "show").stdout()).doesNotContain(prefix + "br").doesNotContain(prefix
        + "v0");
    assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(prefix + "-0");
    // (other runs on this machine may have their own bridges and routes; this run's are gone)
    assertThat(Host.run("ip", "-o", "addr", "show").stdout()).doesNotContain(prefix + "br");
    assertThat(Host.run("ip", "route", "show").stdout()).doesNotContain(serviceCidr.replace("/24", ""));
  }

  /** Listens on {@code *:port} (or null if another program already does: the port is held either way). */
  static ServerSocket holdOnEveryAddress(int port) throws IOException {
    ServerSocket s = new ServerSocket();
    try {
      s.bind(new InetSocketAddress("0.0.0.0", port));
      return s;
    } catch (IOException e) {
      s.close();
      return null;
    }
  }

  /** Accepts one connection and writes the peer's address into it. */
  static Thread acceptOnce(ServerSocket s) {
    Thread t = new Thread(() -> {
      try (Socket c = s.accept()) {
        c.getOutputStream().write(c.getInetAddress().getHostAddress().getBytes(StandardCharsets.UTF_8));
      } catch (IOException ignored) {
        // the test fails on what it reads
      }
    });
    t.start();
    return t;
  }

  @Test
  void leftoversOfADeadRunAreRemovedAtTheNextStart() throws Exception {
    assumeTrue(PodNetwork.probe().kernelMode(), "no network namespaces: " + PodNetwork.probe().reason());
    // What a SIGKILLed run of slot 199 leaves: a bridge, a namespace with a process in it, a veth.
    assertThat(Host.run("ip", "link", "add", "tsop199br", "type", "bridge").ok()).isTrue();
    assertThat(Host.run("ip", "netns", "add", "tsop199-7").ok()).isTrue();
    assertThat(Host.run("ip", "link", "add", "tsop199v7", "type", "veth", "peer", "name", "eth0", "netns",
        "tsop199-7").ok()).isTrue();
    Process sleeper = new ProcessBuilder("ip", "netns", "exec", "tsop199-7", "sleep", "300").start();
    try (InputStream ignored = sleeper.getInputStream()) {
      assertThat(PodNetwork.cleanLeftovers()).contains(199);
      assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain("tsop199-");
      assertThat(Host.run("ip", "-o", "link", "show").stdout()).doesNotContain("tsop199");
      assertThat(sleeper.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      sleeper.destroyForcibly();
      Host.run("ip", "netns", "del", "tsop199-7");
      Host.run("ip", "link", "del", "tsop199br");
    }
  }
}
