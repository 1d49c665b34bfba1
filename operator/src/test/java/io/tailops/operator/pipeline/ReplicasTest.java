package io.tailops.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.tailops.controlplane.Device;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.proxy.TailscaledConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A proxy with several replicas (a Connector's shape): one config Secret and device per replica, hostnames from a
 * prefix, and a scale-down that removes the surplus replica's device and Secret.
 */
class ReplicasTest {
  static final ParentRef PARENT = new ParentRef("connector", null, "office", "uid-office");

  static ProxySpec spec(int replicas) {
    return new ProxySpec(PARENT, "office", List.of("tag:k8s"), new ProxyTarget.ClusterIp("10.0.0.1"), null, false,
        false, false, null, replicas, "office");
  }

  @Test
  void eachReplicaGetsItsSecretAndHostnameAndAScaleDownRemovesTheSurplusDevice() throws Exception {
    InMemoryCluster cluster = new InMemoryCluster("tailscale");
    FakeControlPlane tailnet = new FakeControlPlane();
    ProxyProvisioner provisioner = new ProxyProvisioner(cluster, () -> tailnet, new ProxyDefaults("tailscale",
        "tailscale/tailscale:v1.94.2", "", "", "", List.of("tag:k8s")));

    ObservedProxy proxy = provisioner.provision(spec(2), cluster);
    String name = proxy.name();
    assertThat(cluster.all(Secret.class)).extracting(s -> s.getMetadata().getName())
        .containsExactly(name + "-0", name + "-1");
    assertThat(cluster.all(Secret.class)).extracting(s -> TailscaledConfig.hostnameOf(ProxyConfigSecret.value(s,
        TailscaledConfig.CAP_107))).containsExactly("office-0", "office-1");
    assertThat(tailnet.keys).hasSize(2);
    StatefulSet sts = cluster.all(StatefulSet.class).get(0);
    assertThat(sts.getSpec().getReplicas()).isEqualTo(2);
    assertThat(sts.getSpec().getTemplate().getSpec().getVolumes()).extracting(Volume::getName)
        .containsExactly("tailscaledconfig-0", "tailscaledconfig-1");
    assertThat(sts.getMetadata().getLabels()).containsEntry("tailscale.com/parent-resource-ns", "");

    // Replica 1 logs in; then the proxy is scaled down to one replica.
    Secret second = cluster.get(Secret.class, name + "-1");
    Map<String, String> data = new LinkedHashMap<>(second.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of("device_id", "node-2")));
    second.setData(data);
    cluster.edit(second);
    tailnet.devices.put("node-2", new Device("node-2", "2", "office-1.ts.net", "office-1", List.of(), List.of(
        "tag:k8s"), null, true, null));
    provisioner.provision(spec(1), cluster);
    assertThat(cluster.all(Secret.class)).extracting(s -> s.getMetadata().getName()).containsExactly(name + "-0");
    assertThat(tailnet.calls).contains("deleteDevice node-2");
    assertThat(cluster.all(StatefulSet.class).get(0).getSpec().getReplicas()).isEqualTo(1);
  }
}
