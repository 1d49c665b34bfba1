package io.tailops.release;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.Release;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.OneShotCommand;
import io.tailops.testkit.kube.KubeApiServerExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Runs tools/release.sh, the release workflow's steps, against a registry on loopback (with a local cosign key
 * instead of keyless signing, and without the test step, which this build runs anyway), then checks what a user
 * gets: the multi-arch image index and each image's config and runtime architecture, the signatures and SBOM
 * attestations, the chart as an OCI artifact with version = appVersion = the release, and the chart installed from
 * that registry on a real API server.
 */
@Tag("apiserver")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReleaseScriptTest {

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension(b -> b);

  static final String VERSION = Repo.chartVersion();
  static final Map<String, String> PUBLISHED = Repo.published();
  /** The image's path in a registry: IMAGE_REPOSITORY without its host (tailops/tailscale-operator). */
  static final String IMAGE_PATH = PUBLISHED.get("IMAGE_REPOSITORY").substring(
      PUBLISHED.get("IMAGE_REPOSITORY").indexOf('/') + 1);
  static final String CHART_PATH = PUBLISHED.get("CHART_REGISTRY").substring(
      PUBLISHED.get("CHART_REGISTRY").indexOf('/') + 1) + "/tailscale-operator";
  static final String PASSWORD = "release-test-only";

  static Path dir;
  static Path out;
  static LocalRegistry registry;
  static OneShotCommand.Result run;
  static Map<String, String> released = new HashMap<>();

  @BeforeAll
  static void release() throws IOException {
    dir = Files.createTempDirectory("release-test-");
    registry = LocalRegistry.start(dir.resolve("registry"));
    // A signing key for this run only (the release workflow signs keyless through GitHub's OIDC token instead).
    cosign(List.of("generate-key-pair", "--output-key-prefix", dir.resolve("cosign").toString())).require();

    out = dir.resolve("out");
    Map<String, String> env = new HashMap<>(System.getenv());
    env.putAll(Repo.toolEnv());
    env.put("COSIGN_PASSWORD", PASSWORD);
    env.put("DOCKER_CONFIG", Files.createDirectories(dir.resolve("docker")).toString());
    env.put("CDS", "0");  // the class data sharing training run: see docs/release.md (not run here, for time)
    long started = System.nanoTime();
    run = OneShotCommand.run(List.of("bash", Repo.root().resolve("tools/release.sh").toString(), "--version", VERSION,
        "--registry", registry.host(), "--plain-http", "--key", dir.resolve("cosign.key").toString(), "--skip-tests",
        "--out", out.toString()), env, Repo.root(), Duration.ofMinutes(30));
    System.out.printf("tools/release.sh took %d s%n", (System.nanoTime() - started) / 1_000_000_000L);
    Path log = Path.of("target", "release-sh.log");
    Files.createDirectories(log.getParent());
    Files.writeString(log, run.stdout() + "\n--- stderr ---\n" + run.stderr());
    if (run.ok()) {
      for (String line : Files.readAllLines(out.resolve("release.env"))) {
        released.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
  }

  @AfterAll
  static void stop() {
    if (registry != null) {
      registry.close();
    }
    Repo.deleteTree(dir);
  }

  @Order(1)
  @Test
  void theReleaseScriptRunsEveryStep() {
    assertThat(run.exitCode()).as("tools/release.sh failed:\n%s\nregistry log:\n%s", tail(run.stderr(), 80),
        registry.logTail()).isZero();
    for (int i = 1; i <= 9; i++) {
      assertThat(run.stderr()).contains("==> step " + i + "/9");
    }
    // The amd64 image was started as a restricted pod would run it (read-only root, user 65532) and printed the
    // release version: the version was set in the source copy.
    assertThat(run.stderr()).contains("check: tailscale-operator " + VERSION);
    assertThat(released).containsEntry("VERSION", VERSION)
        .containsEntry("IMAGE", registry.host() + "/" + IMAGE_PATH + ":" + VERSION);
  }

  @Order(2)
  @Test
  void theImageIsAMultiArchIndexOfNonRootImagesForAmd64AndArm64() throws IOException {
    JsonNode index = registry.manifest(IMAGE_PATH, VERSION);
    assertThat(index.path("mediaType").asText()).isEqualTo(LocalRegistry.INDEX);
    assertThat(registry.digest(IMAGE_PATH, VERSION)).isEqualTo(released.get("IMAGE_DIGEST"));
    List<String> platforms = new ArrayList<>();
    for (JsonNode m : index.path("manifests")) {
      String arch = m.path("platform").path("architecture").asText();
      platforms.add(m.path("platform").path("os").asText() + "/" + arch);
      JsonNode manifest = registry.manifest(IMAGE_PATH, m.path("digest").asText());
      JsonNode config = LocalRegistry.JSON.readTree(registry.blob(IMAGE_PATH,
          manifest.path("config").path("digest").asText()));
      assertThat(config.path("architecture").asText()).as("config of %s", arch).isEqualTo(arch);
      assertThat(config.path("os").asText()).isEqualTo("linux");
      JsonNode c = config.path("config");
      assertThat(c.path("User").asText()).isEqualTo("65532:65532");
      assertThat(c.path("Entrypoint").get(0).asText()).isEqualTo("java");
      assertThat(c.path("Entrypoint").get(c.path("Entrypoint").size() - 1).asText())
          .isEqualTo("io.tailops.operator.Main");
      assertThat(c.path("Cmd").toString()).isEqualTo("[\"run\"]");
      assertThat(c.path("Labels").path("org.opencontainers.image.version").asText()).isEqualTo(VERSION);

      // The runtime is really built for that architecture: the java launcher's ELF machine, and its program
      // interpreter present in the image (so the image runs on such a node without emulation).
      Map<String, Tar.Entry> files = new HashMap<>();
      for (JsonNode layer : manifest.path("layers")) {
        files.putAll(Tar.read(registry.blob(IMAGE_PATH, layer.path("digest").asText())));
      }
      byte[] java = files.get("opt/java/openjdk/bin/java").data();
      int machine = arch.equals("arm64") ? 183 : 62;
      assertThat(Tar.elfMachine(java)).as("ELF machine of java in %s", arch).isEqualTo(machine);
      assertThat(Tar.elfMachine(files.get("opt/java/openjdk/lib/server/libjvm.so").data())).isEqualTo(machine);
      String interpreter = Tar.elfInterpreter(java);
      assertThat(interpreter).isEqualTo(arch.equals("arm64") ? "/lib/ld-linux-aarch64.so.1"
          : "/lib64/ld-linux-x86-64.so.2");
      assertThat(resolve(files, interpreter.substring(1))).as("%s in the %s image", interpreter, arch).isNotNull();
      assertThat(files.get("usr/lib/" + (arch.equals("arm64") ? "aarch64" : "x86_64") + "-linux-gnu/libc.so.6"))
          .isNotNull();
      // The same Java runtime in both images.
      assertThat(new String(files.get("opt/java/openjdk/release").data(), StandardCharsets.UTF_8))
          .contains("JAVA_VERSION=\"" + released.getOrDefault("JAVA", javaRuntime(files)) + "\"");
      released.put("JAVA", javaRuntime(files));
      released.put("MANIFEST_" + arch, m.path("digest").asText());
    }
    assertThat(platforms).containsExactly("linux/amd64", "linux/arm64");
  }

  @Order(3)
  @Test
  void theIndexAndEachImageAreSignedAndCarryTheirSbom() throws IOException {
    String image = registry.host() + "/" + IMAGE_PATH;
    assertThat(verify("verify", image + "@" + released.get("IMAGE_DIGEST")).exitCode()).isZero();
    for (String arch : List.of("amd64", "arm64")) {
      String ref = image + "@" + released.get("MANIFEST_" + arch);
      assertThat(verify("verify", ref).exitCode()).as("signature of %s", arch).isZero();
      OneShotCommand.Result att = verify("verify-attestation", ref, "--type", "cyclonedx");
      assertThat(att.exitCode()).as("attestation of %s: %s", arch, att.stderr()).isZero();
      JsonNode envelope = LocalRegistry.JSON.readTree(att.stdout().lines().filter(l -> l.startsWith("{"))
          .findFirst().orElseThrow());
      JsonNode statement = LocalRegistry.JSON.readTree(Base64.getDecoder().decode(envelope.path("payload").asText()));
      JsonNode bom = statement.path("predicate");
      assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
      assertThat(bom.path("metadata").path("component").path("name").asText())
          .isEqualTo(PUBLISHED.get("IMAGE_REPOSITORY"));
      List<String> purls = new ArrayList<>();
      bom.path("components").forEach(c -> purls.add(c.path("purl").asText()));
      assertThat(purls).anyMatch(p -> p.startsWith("pkg:deb/debian/libc6@") && p.contains("arch=" + arch))
          .anyMatch(p -> p.startsWith("pkg:maven/io.tailops/tailscale-operator-control-plane@" + VERSION))
          .anyMatch(p -> p.startsWith("pkg:maven/io.fabric8/kubernetes-client@"))
          .anyMatch(p -> p.startsWith("pkg:generic/openjdk@"));
    }
    // The check can fail: another key does not verify these signatures.
    cosign(List.of("generate-key-pair", "--output-key-prefix", dir.resolve("other").toString())).require();
    OneShotCommand.Result other = cosign(List.of("verify", "--key", dir.resolve("other.pub").toString(),
        "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry",
        image + "@" + released.get("IMAGE_DIGEST")));
    assertThat(other.exitCode()).isNotZero();
  }

  @Order(4)
  @Test
  void theChartIsAnOciArtifactWithTheReleaseVersionAndIsSigned() throws IOException {
    JsonNode manifest = registry.manifest(CHART_PATH, VERSION);
    assertThat(manifest.path("config").path("mediaType").asText()).isEqualTo("application/vnd.cncf.helm.config.v1+json");
    JsonNode chart = LocalRegistry.JSON.readTree(registry.blob(CHART_PATH,
        manifest.path("config").path("digest").asText()));
    assertThat(chart.path("name").asText()).isEqualTo("tailscale-operator");
    assertThat(chart.path("version").asText()).isEqualTo(VERSION);
    assertThat(chart.path("appVersion").asText()).isEqualTo(VERSION);
    assertThat(registry.digest(CHART_PATH, VERSION)).isEqualTo(released.get("CHART_DIGEST"));
    assertThat(verify("verify", registry.host() + "/" + CHART_PATH + "@" + released.get("CHART_DIGEST")).exitCode())
        .isZero();

    String notes = Files.readString(out.resolve("release-notes.md"));
    assertThat(notes).contains("## Artefacts").contains(released.get("IMAGE_DIGEST"))
        .contains(released.get("CHART_DIGEST"))
        .contains("helm install tailscale-operator oci://" + PUBLISHED.get("CHART_REGISTRY") + "/tailscale-operator "
            + "--version " + VERSION)
        .contains(firstChangelogLine());
    assertThat(out.resolve("sbom-linux-amd64.cdx.json")).exists();
    assertThat(out.resolve("sbom-linux-arm64.cdx.json")).exists();
  }

  @Order(5)
  @Test
  void theChartInstallsFromTheRegistryAndRunsThePublishedImage() {
    KubernetesClient client = KUBE.server().client();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("tailscale")
        .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
    Release release = Helm.install("oci://" + registry.host() + "/" + CHART_PATH).withVersion(VERSION).plainHttp()
        .withName("tailscale-operator").withNamespace("tailscale").withKubeConfig(KUBE.server().kubeconfig())
        .call();
    assertThat(release.getStatus()).isEqualTo("deployed");
    assertThat(release.getChart()).isEqualTo("tailscale-operator-" + VERSION);
    assertThat(release.getAppVersion()).isEqualTo(VERSION);

    Deployment d = client.apps().deployments().inNamespace("tailscale").withName("operator").get();
    String image = d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    // The chart's default image is the published one, at the release version: the image this release pushed.
    assertThat(image).isEqualTo(PUBLISHED.get("IMAGE_REPOSITORY") + ":" + VERSION);
    assertThat(registry.digest(IMAGE_PATH, VERSION)).isEqualTo(released.get("IMAGE_DIGEST"));
    Helm.uninstall("tailscale-operator").withNamespace("tailscale").withKubeConfig(KUBE.server().kubeconfig()).call();
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static OneShotCommand.Result verify(String command, String ref, String... more) {
    List<String> args = new ArrayList<>(List.of(command, "--key", dir.resolve("cosign.pub").toString(),
        "--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry"));
    args.addAll(List.of(more));
    args.add(ref);
    return cosign(args);
  }

  static OneShotCommand.Result cosign(List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Repo.tool("cosign").toString());
    cmd.addAll(args);
    return OneShotCommand.run(cmd, Repo.env(dir, Map.of("COSIGN_PASSWORD", PASSWORD,
        "DOCKER_CONFIG", dir.resolve("docker").toString())), dir, Duration.ofMinutes(2));
  }

  /** Follows symlinks inside the image's file map (absolute targets from the image root). */
  static Tar.Entry resolve(Map<String, Tar.Entry> files, String path) {
    for (int hops = 0; hops < 10; hops++) {
      Tar.Entry e = files.get(path);
      if (e == null) {
        // A symlinked directory on the way (lib64 -> usr/lib64, lib -> usr/lib).
        int slash = path.indexOf('/');
        if (slash > 0 && files.containsKey(path.substring(0, slash))
            && files.get(path.substring(0, slash)).link() != null) {
          Tar.Entry dirLink = files.get(path.substring(0, slash));
          path = dirLink.link().replaceFirst("^/", "") + path.substring(slash);
          continue;
        }
        return null;
      }
      if (e.link() == null) {
        return e;
      }
      String parent = path.contains("/") ? path.substring(0, path.lastIndexOf('/') + 1) : "";
      path = e.link().startsWith("/") ? e.link().substring(1) : parent + e.link();
    }
    return null;
  }

  static String javaRuntime(Map<String, Tar.Entry> files) {
    String release = new String(files.get("opt/java/openjdk/release").data(), StandardCharsets.UTF_8);
    return release.lines().filter(l -> l.startsWith("JAVA_VERSION=")).findFirst().orElseThrow()
        .replaceFirst("JAVA_VERSION=\"(.*)\"", "$1");
  }

  static String firstChangelogLine() {
    try {
      List<String> lines = Files.readAllLines(Repo.root().resolve("CHANGELOG.md"));
      int i = lines.indexOf("## " + VERSION);
      return lines.subList(i + 1, lines.size()).stream().filter(l -> !l.isBlank()).findFirst().orElseThrow();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static String tail(String s, int lines) {
    List<String> all = s.lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }
}
