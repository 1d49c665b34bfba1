package io.tailops.testkit.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;

/** The kubelet's environment rules, as {@link PodEnv} applies them. */
class PodEnvTest {

  private static final PodEnv.Sources SOURCES = new PodEnv.Sources((ns, name) -> "creds".equals(name)
      ? secret() : null, (ns, name) -> null);

  private static Secret secret() {
    return new SecretBuilder().withNewMetadata().withName("creds").endMetadata()
        .addToData("key", Base64.getEncoder().encodeToString("s3cret".getBytes(StandardCharsets.UTF_8))).build();
  }

  private static Pod pod(Container c) {
    return new PodBuilder().withNewMetadata().withNamespace("tailscale").withName("ts-web-abcde-0").withUid("u-1")
        .addToLabels("app", "web").endMetadata().withNewSpec().withServiceAccountName("proxies").withContainers(c)
        .endSpec().build();
  }

  @Test
  void expansionFollowsKubernetes() {
    Map<String, String> vars = Map.of("A", "a", "B", "b");
    assertThat(PodEnv.expand("$(A)-$(B)", vars::get)).isEqualTo("a-b");
    assertThat(PodEnv.expand("$(MISSING)", vars::get)).isEqualTo("$(MISSING)");
    assertThat(PodEnv.expand("$$(A)", vars::get)).isEqualTo("$(A)");
    assertThat(PodEnv.expand("$$", vars::get)).isEqualTo("$");
    assertThat(PodEnv.expand("cost $5", vars::get)).isEqualTo("cost $5");
    assertThat(PodEnv.expand("$(A", vars::get)).isEqualTo("$(A");
    assertThat(PodEnv.expand("end$", vars::get)).isEqualTo("end$");
    assertThat(PodEnv.expand("/etc/tsconfig/$(A)/x", vars::get)).isEqualTo("/etc/tsconfig/a/x");
  }

  @Test
  void theOperatorsProxyEnvironmentResolves() throws Exception {
    Container c = new ContainerBuilder().withName("tailscale")
        .addNewEnv().withName("TS_USERSPACE").withValue("false").endEnv()
        .addNewEnv().withName("POD_IP").withNewValueFrom().withNewFieldRef("v1", "status.podIP").endValueFrom().endEnv()
        .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef("v1", "metadata.name").endValueFrom()
        .endEnv()
        .addNewEnv().withName("POD_UID").withNewValueFrom().withNewFieldRef("v1", "metadata.uid").endValueFrom().endEnv()
        .addNewEnv().withName("TS_KUBE_SECRET").withValue("$(POD_NAME)").endEnv()
        .addNewEnv().withName("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR").withValue("/etc/tsconfig/$(POD_NAME)").endEnv()
        .addNewEnv().withName("EARLY").withValue("$(LATER)").endEnv()
        .addNewEnv().withName("LATER").withValue("x").endEnv()
        .addNewEnv().withName("APP").withNewValueFrom().withNewFieldRef("v1", "metadata.labels['app']").endValueFrom()
        .endEnv()
        .addNewEnv().withName("KEY").withNewValueFrom().withNewSecretKeyRef("key", "creds", false).endValueFrom()
        .endEnv()
        .addNewEnv().withName("OPT").withNewValueFrom().withNewSecretKeyRef("key", "nope", true).endValueFrom()
        .endEnv()
        .addNewEnv().withName("HOST").withValue("$(KUBERNETES_SERVICE_HOST)").endEnv()
        .build();
    Map<String, String> service = new LinkedHashMap<>(Map.of("KUBERNETES_SERVICE_HOST", "10.244.0.1"));
    Map<String, String> env = PodEnv.resolve(pod(c), c, service, "10.244.0.7", "10.244.0.1", "node", SOURCES);
    assertThat(env).containsEntry("POD_IP", "10.244.0.7").containsEntry("POD_NAME", "ts-web-abcde-0")
        .containsEntry("POD_UID", "u-1").containsEntry("TS_KUBE_SECRET", "ts-web-abcde-0")
        .containsEntry("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "/etc/tsconfig/ts-web-abcde-0")
        .containsEntry("EARLY", "$(LATER)") // only variables defined before
        .containsEntry("APP", "web").containsEntry("KEY", "s3cret").doesNotContainKey("OPT")
        .containsEntry("HOST", "10.244.0.1").containsEntry("KUBERNETES_SERVICE_HOST", "10.244.0.1");
    assertThat(List.copyOf(env.keySet()).indexOf("KUBERNETES_SERVICE_HOST")).isZero();
  }

  @Test
  void missingReferencesAndUnsupportedFieldsFailLikeTheKubelet() {
    Container c = new ContainerBuilder().withName("tailscale").addNewEnv().withName("KEY").withNewValueFrom()
        .withNewSecretKeyRef("key", "missing", false).endValueFrom().endEnv().build();
    assertThatThrownBy(() -> PodEnv.resolve(pod(c), c, Map.of(), "1.2.3.4", "1.2.3.1", "n", SOURCES))
        .hasMessage("secret \"missing\" not found");
    Container d = new ContainerBuilder().withName("tailscale").addNewEnv().withName("X").withNewValueFrom()
        .withNewFieldRef("v1", "spec.whatever").endValueFrom().endEnv().build();
    assertThatThrownBy(() -> PodEnv.resolve(pod(d), d, Map.of(), "1.2.3.4", "1.2.3.1", "n", SOURCES))
        .hasMessage("unsupported fieldRef spec.whatever");
  }

  @Test
  void resourceFieldRefsRoundUpAgainstTheDivisor() throws Exception {
    Container c = new ContainerBuilder().withName("tailscale").withNewResources()
        .addToRequests("cpu", new Quantity("1m")).addToRequests("memory", new Quantity("1Mi"))
        .addToLimits("memory", new Quantity("64Mi")).endResources().build();
    assertThat(PodEnv.resource(c, "requests.cpu", new Quantity("1m"))).isEqualTo("1");
    assertThat(PodEnv.resource(c, "requests.cpu", null)).isEqualTo("1");
    assertThat(PodEnv.resource(c, "limits.memory", new Quantity("1Mi"))).isEqualTo("64");
    assertThat(PodEnv.resource(c, "requests.memory", null)).isEqualTo("1048576");
  }
}
