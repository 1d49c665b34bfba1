package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyStatefulSetTest {
  static final ProxyDefaults DEFAULTS = new ProxyDefaults("tailscale", "tailscale/tailscale:v1.94.2", "", "auto", "",
      List.of("tag:k8s"));
  static final ParentRef WEB = new ParentRef("svc", "default", "web", "U");

  static ProxySpec serviceSpec(ProxyClass pc) {
    return new ProxySpec(WEB, "default-web", List.of("tag:k8s"), new ProxyTarget.ClusterIp("10.0.0.10"), pc, false,
        false, false);
  }

  @Test
  void serviceProxyIsKernelModeWithTheOfficialEnvironmentInOrder() {
    StatefulSet sts = ProxyStatefulSet.build(serviceSpec(null), "ts-web-q8x4z", DEFAULTS);
    assertThat(sts.getMetadata().getNamespace()).isEqualTo("tailscale");
    assertThat(sts.getMetadata().getLabels()).containsExactly(
        java.util.Map.entry("tailscale.com/managed", "true"),
        java.util.Map.entry("tailscale.com/parent-resource", "web"),
        java.util.Map.entry("tailscale.com/parent-resource-ns", "default"),
        java.util.Map.entry("tailscale.com/parent-resource-type", "svc"));
    assertThat(sts.getSpec().getReplicas()).isEqualTo(1);
    assertThat(sts.getSpec().getServiceName()).isEqualTo("ts-web-q8x4z");
    assertThat(sts.getSpec().getSelector().getMatchLabels()).containsEntry("app", "U");
    var template = sts.getSpec().getTemplate();
    assertThat(template.getMetadata().getLabels()).containsEntry("app", "U")
        .containsEntry("tailscale.com/parent-resource-type", "svc");
    assertThat(template.getMetadata().getAnnotations())
        .containsExactly(java.util.Map.entry("tailscale.com/operator-last-set-cluster-ip", "10.0.0.10"));
    assertThat(template.getMetadata().getDeletionGracePeriodSeconds()).isEqualTo(10L);
    var pod = template.getSpec();
    // Its own ServiceAccount (ProxyAccess), not upstream's shared "proxies".
    assertThat(pod.getServiceAccountName()).isEqualTo(sts.getMetadata().getName());
    Container init = pod.getInitContainers().get(0);
    assertThat(init.getName()).isEqualTo("sysctler");
    assertThat(init.getSecurityContext().getPrivileged()).isTrue();
    assertThat(init.getCommand()).containsExactly("/bin/sh", "-c");
    assertThat(init.getArgs()).containsExactly("sysctl -w net.ipv4.ip_forward=1 && if sysctl "
        + "net.ipv6.conf.all.forwarding; then sysctl -w net.ipv6.conf.all.forwarding=1; fi");
    Container main = pod.getContainers().get(0);
    assertThat(main.getName()).isEqualTo("tailscale");
    assertThat(main.getImage()).isEqualTo("tailscale/tailscale:v1.94.2");
    assertThat(main.getImagePullPolicy()).isEqualTo("Always");
    assertThat(main.getSecurityContext().getPrivileged()).isTrue();
    assertThat(main.getResources().getRequests()).containsKeys("cpu", "memory");
    assertThat(main.getEnv()).extracting(EnvVar::getName).containsExactly("TS_USERSPACE", "POD_IP", "POD_NAME",
        "POD_UID", "TS_KUBE_SECRET", "TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "TS_DEBUG_ACME_FORCE_RENEWAL",
        "TS_DEBUG_FIREWALL_MODE", "TS_DEST_IP", "TS_INTERNAL_APP");
    assertThat(env(main, "TS_USERSPACE")).isEqualTo("false");
    assertThat(env(main, "TS_KUBE_SECRET")).isEqualTo("$(POD_NAME)");
    assertThat(env(main, "TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR")).isEqualTo("/etc/tsconfig/$(POD_NAME)");
    assertThat(env(main, "TS_DEST_IP")).isEqualTo("10.0.0.10");
    assertThat(env(main, "TS_INTERNAL_APP")).isEqualTo("k8s-operator-ingress-proxy");
    assertThat(main.getVolumeMounts()).singleElement().satisfies(m -> {
      assertThat(m.getName()).isEqualTo("tailscaledconfig-0");
      assertThat(m.getMountPath()).isEqualTo("/etc/tsconfig/ts-web-q8x4z-0");
      assertThat(m.getReadOnly()).isTrue();
    });
    assertThat(pod.getVolumes()).singleElement()
        .satisfies(v -> assertThat(v.getSecret().getSecretName()).isEqualTo("ts-web-q8x4z-0"));
  }

  @Test
  void ingressProxyIsUserspaceWithAServeConfigVolume() {
    ProxySpec spec = new ProxySpec(new ParentRef("ingress", "d", "app", "U2"), "app", List.of("tag:k8s"),
        new ProxyTarget.Serve("{}"), null, false, false, false);
    StatefulSet sts = ProxyStatefulSet.build(spec, "ts-app-abcde", new ProxyDefaults("tailscale", "img", "", "", "",
        List.of()));
    var pod = sts.getSpec().getTemplate().getSpec();
    assertThat(pod.getInitContainers()).isEmpty();
    Container main = pod.getContainers().get(0);
    assertThat(main.getSecurityContext()).isNull();
    assertThat(env(main, "TS_USERSPACE")).isEqualTo("true");
    assertThat(env(main, "TS_SERVE_CONFIG")).isEqualTo("/etc/tailscaled/$(POD_NAME)/serve-config");
    assertThat(env(main, "TS_INTERNAL_APP")).isEqualTo("k8s-operator-ingress-resource");
    assertThat(main.getEnv()).extracting(EnvVar::getName).doesNotContain("TS_DEBUG_FIREWALL_MODE");
    assertThat(main.getVolumeMounts()).extracting(m -> m.getMountPath())
        .containsExactly("/etc/tsconfig/ts-app-abcde-0", "/etc/tailscaled/ts-app-abcde-0");
    assertThat(pod.getVolumes().get(1).getSecret().getItems().get(0).getKey()).isEqualTo("serve-config");
    assertThat(sts.getSpec().getTemplate().getMetadata().getAnnotations()).isNull();
  }

  @Test
  void theSpecHashChangesOnlyWhenTheSpecChanges() {
    String a = ProxyStatefulSet.hashOf(ProxyStatefulSet.build(serviceSpec(null), "ts-web-q8x4z", DEFAULTS));
    String b = ProxyStatefulSet.hashOf(ProxyStatefulSet.build(serviceSpec(null), "ts-web-q8x4z", DEFAULTS));
    assertThat(a).isEqualTo(b).hasSize(20);
    ProxySpec other = new ProxySpec(WEB, "default-web", List.of("tag:k8s"), new ProxyTarget.ClusterIp("10.0.0.11"),
        null, false, false, false);
    assertThat(ProxyStatefulSet.hashOf(ProxyStatefulSet.build(other, "ts-web-q8x4z", DEFAULTS))).isNotEqualTo(a);
  }

  @Test
  void seedProdProxyClassAppendsTsExtraArgsToTheInitContainer() {
    ProxyClass prod = Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata:
          name: prod
        spec:
          statefulSet:
            pod:
              tailscaleInitContainer:
                env:
                  - name: TS_EXTRA_ARGS
                    value: "--advertise-tags=tag:k8s-operator"
        """, ProxyClass.class);
    StatefulSet sts = ProxyStatefulSet.build(serviceSpec(prod), "ts-web-q8x4z", DEFAULTS);
    Container init = sts.getSpec().getTemplate().getSpec().getInitContainers().get(0);
    assertThat(init.getEnv()).singleElement().satisfies(e -> {
      assertThat(e.getName()).isEqualTo("TS_EXTRA_ARGS");
      assertThat(e.getValue()).isEqualTo("--advertise-tags=tag:k8s-operator");
    });
    // The main container is untouched.
    assertThat(sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName).doesNotContain("TS_EXTRA_ARGS");
  }

  @Test
  void anEmptyPodBlockKeepsTheOperatorPriorityClass() {
    ProxyClass pc = Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: x}
        spec:
          statefulSet:
            pod:
              labels: {team: eng}
        """, ProxyClass.class);
    ProxyDefaults withPriority = new ProxyDefaults("tailscale", "img", "high", "", "", List.of());
    StatefulSet sts = ProxyStatefulSet.build(serviceSpec(pc), "n", withPriority);
    assertThat(sts.getSpec().getTemplate().getSpec().getPriorityClassName()).isEqualTo("high");
    assertThat(sts.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("team", "eng")
        .containsEntry("app", "U").containsEntry(TailscaleKeys.LABEL_MANAGED, "true");
  }

  static String env(Container c, String name) {
    return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().map(EnvVar::getValue).orElse(null);
  }
}
