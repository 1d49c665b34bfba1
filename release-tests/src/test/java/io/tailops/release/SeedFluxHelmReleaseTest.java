package io.tailops.release;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.OneShotCommand;
import io.tailops.testkit.kube.KubeApiServerExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The seed cluster's Flux HelmRelease (examples/flux/seed/tailscale.yaml, as the seed guide describes it) with only its
 * chart source and version changed (examples/flux/tailscale.yaml) installs this chart with exactly its values.
 *
 * <p>What this does, as Flux's source-controller and helm-controller would: reads the HelmRepository (type oci) and the
 * HelmRelease; resolves the chart {@code <HelmRepository url>/<chart>} at the HelmRelease's version from an OCI
 * registry (a distribution registry on loopback standing in for the published one: only the registry host is
 * replaced, the path is the published one); installs it as release {@code metadata.name} in
 * {@code metadata.namespace} with {@code spec.values} exactly, after the seed's placeholder Secret (applied by the
 * seed's Kustomization). What it does not: run Flux's controllers, wait for the Deployment to become ready (there are
 * no nodes), or apply Flux's post-renderer labels. docs/flux.md says the same.
 */
@Tag("apiserver")
class SeedFluxHelmReleaseTest {

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension(b -> b);

  static final YAMLMapper YAML = new YAMLMapper();
  static final String VERSION = Repo.chartVersion();

  static Path dir;
  static LocalRegistry registry;

  @BeforeAll
  static void publishTheChart() throws IOException {
    dir = Files.createTempDirectory("flux-test-");
    registry = LocalRegistry.start(dir.resolve("registry"));
    // The chart as the release publishes it (tools/release.sh step 8): helm package, helm push.
    Map<String, String> env = Repo.env(dir, Map.of());
    Path helm = Repo.tool("helm");
    OneShotCommand.run(List.of(helm.toString(), "package", Repo.root().resolve("chart/tailscale-operator").toString(),
        "--version", VERSION, "--app-version", VERSION, "-d", dir.toString()), env, dir, Duration.ofMinutes(2))
        .require();
    String chartRegistry = Repo.published().get("CHART_REGISTRY");
    OneShotCommand.run(List.of(helm.toString(), "push", dir.resolve("tailscale-operator-" + VERSION + ".tgz").toString(),
        "oci://" + registry.host() + chartRegistry.substring(chartRegistry.indexOf('/')), "--plain-http"), env, dir,
        Duration.ofMinutes(2)).require();
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    Repo.deleteTree(dir);
  }

  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode n = it.next();
        if (n != null && !n.isEmpty()) {
          docs.add(n);
        }
      }
    }
    return docs;
  }

  static JsonNode ofKind(List<JsonNode> docs, String kind) {
    return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind));
  }

  /** Every path (a/b/c) where the two trees differ. */
  static void diff(String path, JsonNode a, JsonNode b, List<String> out) {
    if (a != null && b != null && a.isObject() && b.isObject()) {
      java.util.Set<String> keys = new java.util.TreeSet<>();
      a.fieldNames().forEachRemaining(keys::add);
      b.fieldNames().forEachRemaining(keys::add);
      for (String k : keys) {
        diff(path + "/" + k, a.get(k), b.get(k), out);
      }
    } else if (a == null || !a.equals(b)) {
      out.add(path);
    }
  }

  @Test
  void onlyTheChartSourceAndTheVersionDifferFromTheSeed() throws IOException {
    List<JsonNode> seed = documents(Repo.root().resolve("examples/flux/seed/tailscale.yaml"));
    List<JsonNode> ours = documents(Repo.root().resolve("examples/flux/tailscale.yaml"));
    assertThat(ours).extracting(d -> d.path("kind").asText() + "/" + d.path("metadata").path("name").asText())
        .isEqualTo(seed.stream().map(d -> d.path("kind").asText() + "/" + d.path("metadata").path("name").asText())
            .toList());
    List<String> repoDiff = new ArrayList<>();
    diff("", ofKind(seed, "HelmRepository"), ofKind(ours, "HelmRepository"), repoDiff);
    assertThat(repoDiff).as("HelmRepository: the chart source").containsExactlyInAnyOrder("/spec/type", "/spec/url");
    List<String> releaseDiff = new ArrayList<>();
    diff("", ofKind(seed, "HelmRelease"), ofKind(ours, "HelmRelease"), releaseDiff);
    assertThat(releaseDiff).as("HelmRelease: the version").containsExactly("/spec/chart/spec/version");

    assertThat(ofKind(seed, "HelmRepository").path("spec").path("url").asText())
        .isEqualTo("https://pkgs.tailscale.com/helmcharts");
    assertThat(ofKind(seed, "HelmRelease").path("spec").path("chart").path("spec").path("version").asText())
        .isEqualTo("1.94.2");
    assertThat(ofKind(ours, "HelmRepository").path("spec").path("url").asText())
        .isEqualTo("oci://" + Repo.published().get("CHART_REGISTRY"));
    assertThat(ofKind(ours, "HelmRelease").path("spec").path("chart").path("spec").path("version").asText())
        .isEqualTo(VERSION);
  }

  @Test
  void theHelmReleaseInstallsTheChartFromItsSourceWithExactlyItsValues() throws IOException {
    List<JsonNode> docs = documents(Repo.root().resolve("examples/flux/tailscale.yaml"));
    JsonNode repo = ofKind(docs, "HelmRepository");
    JsonNode hr = ofKind(docs, "HelmRelease");
    JsonNode chartSpec = hr.path("spec").path("chart").path("spec");
    assertThat(chartSpec.path("sourceRef").path("kind").asText()).isEqualTo("HelmRepository");
    assertThat(chartSpec.path("sourceRef").path("name").asText()).isEqualTo(repo.path("metadata").path("name").asText());
    assertThat(repo.path("spec").path("type").asText()).isEqualTo("oci");

    // source-controller: <url>/<chart> at <version>; the registry host is the local stand-in for the published one.
    String url = repo.path("spec").path("url").asText();
    String published = url.substring("oci://".length());
    String chartRef = "oci://" + registry.host() + published.substring(published.indexOf('/')) + "/"
        + chartSpec.path("chart").asText();
    // helm-controller: release name and namespace (no targetNamespace, no releaseName), the values exactly.
    String name = hr.path("metadata").path("name").asText();
    String namespace = hr.path("metadata").path("namespace").asText();
    assertThat(hr.path("spec").has("targetNamespace")).isFalse();
    assertThat(hr.path("spec").has("releaseName")).isFalse();
    assertThat(hr.path("spec").has("valuesFrom")).isFalse();
    Path values = dir.resolve("values.yaml");
    YAML.writeValue(values.toFile(), hr.path("spec").path("values"));

    // The seed's Kustomization: the namespace and the placeholder credentials Secret, before the HelmRelease.
    KubernetesClient client = KUBE.server().client();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    for (HasMetadata o : client.load(Files.newInputStream(Repo.root().resolve("examples/flux/operator-oauth-secret.yaml")))
        .items()) {
      client.resource(o).create();
    }

    Release release = Helm.install(chartRef).withVersion(chartSpec.path("version").asText()).plainHttp()
        .withName(name).withNamespace(namespace).withKubeConfig(KUBE.server().kubeconfig()).withValuesFile(values)
        .call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    assertThat(release.getChart()).isEqualTo("tailscale-operator-" + VERSION);
    // The NOTES see the seed's placeholder and say how to patch it.
    assertThat(release.getOutput()).contains("Secret operator-oauth still holds a placeholder (\"REPLACE_ME\")");

    // What the seed's values ask for reached the operator's Deployment.
    Deployment d = client.apps().deployments().inNamespace(namespace).withName("operator").get();
    JsonNode rendered = YAML.valueToTree(d.getSpec().getTemplate().getSpec().getAffinity());
    JsonNode asked = hr.path("spec").path("values").path("operatorConfig").path("affinity");
    assertThat(stripNulls(rendered)).isEqualTo(asked);
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .anySatisfy(e -> {
          assertThat(e.getName()).isEqualTo("OPERATOR_HOSTNAME");
          assertThat(e.getValue()).isEqualTo("k3s-tailscale-operator");
        });
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo(Repo.published().get("IMAGE_REPOSITORY") + ":" + VERSION);
    // The seed's restart command finds it by label; the placeholder Secret is untouched (not owned by the release).
    assertThat(client.apps().deployments().inNamespace(namespace).withLabel("app", "operator").list().getItems())
        .hasSize(1);
    Secret s = client.secrets().inNamespace(namespace).withName("operator-oauth").get();
    assertThat(s.getMetadata().getAnnotations()).containsEntry("kustomize.toolkit.fluxcd.io/reconcile", "disabled");
    assertThat(s.getMetadata().getLabels() == null ? Map.of() : s.getMetadata().getLabels())
        .doesNotContainKey("app.kubernetes.io/managed-by");
  }

  static JsonNode stripNulls(JsonNode n) {
    if (n.isObject()) {
      ObjectNode o = YAML.createObjectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!e.getValue().isNull() && !(e.getValue().isArray() && e.getValue().isEmpty())) {
          o.set(e.getKey(), stripNulls(e.getValue()));
        }
      }
      return o;
    }
    if (n.isArray()) {
      var a = YAML.createArrayNode();
      n.forEach(x -> a.add(stripNulls(x)));
      return a;
    }
    return n;
  }
}
