package io.tailops.operator.proxygroup;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.operator.doctor.Doctor;
import org.junit.jupiter.api.Test;

/** What doctor says about a kube-apiserver group: ready with its URL, or why its Tailscale Service was refused. */
class ProxyGroupDoctorTest {
  static ProxyGroup pg(String status) {
    return Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata: {name: api}
        spec: {type: kube-apiserver}
        status:
        """ + status, ProxyGroup.class);
  }

  @Test
  void aReadyGroupIsOkWithItsUrl() {
    Doctor.Check c = ProxyGroupDoctor.check(pg("""
          url: https://k8s.tailnet-abc.ts.net
          devices: [{hostname: api-0}]
          conditions:
          - {type: ProxyGroupReady, status: "True", reason: ProxyGroupReady, message: ProxyGroupReady}
        """));
    assertThat(c.status()).isEqualTo(Doctor.Status.OK);
    assertThat(c.detail()).isEqualTo("kube-apiserver, 1 replica(s) running: api-0; API server proxy at "
        + "https://k8s.tailnet-abc.ts.net");
  }

  @Test
  void aRefusedServiceNameFails() {
    Doctor.Check c = ProxyGroupDoctor.check(pg("""
          conditions:
          - {type: ProxyGroupReady, status: "False", reason: ProxyGroupInvalid, message: waiting}
          - {type: KubeAPIServerProxyValid, status: "False", reason: KubeAPIServerProxyInvalid, message: taken}
        """));
    assertThat(c.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(c.detail()).isEqualTo("kube-apiserver: KubeAPIServerProxyInvalid: taken");
  }
}
