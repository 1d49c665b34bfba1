package io.tailops.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClusterDomainTest {

  @Test
  void readsTheDomainFromAKubeletWrittenSearchList() {
    assertThat(ClusterDomain.fromResolvConf("search tailscale.svc.cluster.local svc.cluster.local cluster.local\n"
        + "nameserver 10.96.0.10\noptions ndots:5\n", "tailscale")).isEqualTo("cluster.local");
    assertThat(ClusterDomain.fromResolvConf("nameserver 10.43.0.10\nsearch tailscale.svc.k3s.example "
        + "svc.k3s.example k3s.example lan\n", "tailscale")).isEqualTo("k3s.example");
    assertThat(ClusterDomain.fromResolvConf("search tailscale.svc.corp.  svc.corp. corp.\n", "tailscale"))
        .isEqualTo("corp");
  }

  @Test
  void anythingElseMeansClusterLocal() {
    assertThat(ClusterDomain.fromResolvConf("", "tailscale")).isEqualTo("cluster.local");
    assertThat(ClusterDomain.fromResolvConf("search example.com\n", "tailscale")).isEqualTo("cluster.local");
    assertThat(ClusterDomain.fromResolvConf("search other.svc.k3s svc.k3s k3s\n", "tailscale"))
        .isEqualTo("cluster.local");
    assertThat(ClusterDomain.fromResolvConf("search tailscale.svc.a svc.a b\n", "tailscale"))
        .isEqualTo("cluster.local");
    // a file tailscale's reader refuses
    assertThat(ClusterDomain.fromResolvConf("nameserver x\nsearch tailscale.svc.k3s svc.k3s k3s\n", "tailscale"))
        .isEqualTo("cluster.local");
  }

  @Test
  void commentsAndSeveralSearchLinesAreRead() {
    assertThat(ClusterDomain.fromResolvConf("# generated\nsearch tailscale.svc.k3s # first\nsearch svc.k3s k3s\n",
        "tailscale")).isEqualTo("k3s");
  }
}
