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

  @Test
  void podsReachServiceAddressesOnTheBridgeAndEverythingIsRemoved() throws Exception {
    assumeTrue(PodNetwork.probe().bridge(), "no pod network here: " + PodNetwork.probe().reason());
    String prefix;
    String serviceRange;
    try (PodNetwork net = PodNetwork.create()) {
      prefix = "tsop" + net.slot();
      serviceRange = net.serviceCidr().replace(".0/24", ".");
      String svcIp = net.serviceCidr().replace(".0/24", ".10");
      net.addServiceAddress(svcIp);
      net.addServiceAddress(svcIp); // idempotent
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(svcIp, 0));
        assumeTrue(PodNetwork.probe().kernelMode(), "no network namespaces: " + PodNetwork.probe().reason());
        PodNetwork.Sandbox box = net.sandbox("test");
        assertThat(Host.run("ip", "netns", "list").stdout()).contains(box.netns());
        // from inside the pod's namespace, through eth0 and the bridge, to the address in the root namespace
        Thread accept = new Thread(() -> {
          try (Socket c = s.accept()) {
            c.getOutputStream().write(c.getInetAddress().getHostAddress().getBytes(StandardCharsets.UTF_8));
          } catch (IOException ignored) {
            // the test fails below
          }
        });
        accept.start();
        List<String> cmd = new java.util.ArrayList<>(box.execPrefix());
        cmd.addAll(List.of("/bin/bash", "-c", "exec 3<>/dev/tcp/" + svcIp + "/" + s.getLocalPort() + "; cat <&3"));
        OneShotCommand.Result r = Host.run(cmd, java.util.Map.of(), java.time.Duration.ofSeconds(10));
        accept.join(5000);
        assertThat(r.stdout()).isEqualTo(box.ip());
        String userspaceIp = net.podAddress();
        assertThat(userspaceIp).startsWith("10.244." + net.slot() + ".").isNotEqualTo(box.ip());
        box.close();
        assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(box.netns());
      }
    }
    assertThat(Host.run("ip", "-o", "link", "show").stdout()).doesNotContain(prefix + "br");
    // Only this run's Service range: other runs on the machine (other slots) may hold theirs.
    assertThat(Host.run("ip", "-o", "addr", "show").stdout()).doesNotContain(" " + serviceRange);
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
