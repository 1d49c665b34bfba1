package io.tailops.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;

/** Restarting the API server on the same data, crashes, and that no process outlives the server or the JVM. */
class KubeApiServerLifecycleTest {

  @Test
  void restartKeepsPortAndDataAndWatchesReconnectAndCloseLeavesNoProcess() throws Exception {
    Set<ProcessHandle> children;
    Path workDir;
    try (KubeApiServer kube = KubeApiServer.builder().controllerManager(true).auditLog(true).start()) {
      workDir = kube.workDir();
      // this server's processes (other servers may run in this JVM, e.g. a shared one): their flags name workDir
      String dir = workDir.toString();
      children = Set.copyOf(ProcessHandle.current().descendants()
          .filter(p -> p.info().command().map(c -> c.startsWith(kube.binaries().dir().toString())).orElse(false))
          .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(dir)).orElse(false))
          .toList());
      assertThat(children).extracting(p -> Path.of(p.info().command().orElseThrow()).getFileName().toString())
          .containsExactlyInAnyOrder("etcd", "kube-apiserver", "kube-controller-manager");

      KubernetesClient client = kube.client();
      client.configMaps().inNamespace("default").resource(cm("before-restart")).create();

      Map<String, Boolean> seen = new ConcurrentHashMap<>();
      SharedIndexInformer<ConfigMap> informer = client.configMaps().inNamespace("default")
          .inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(ConfigMap obj) {
              seen.put(obj.getMetadata().getName(), true);
            }

            @Override
            public void onUpdate(ConfigMap oldObj, ConfigMap newObj) {
              seen.put(newObj.getMetadata().getName(), true);
            }

            @Override
            public void onDelete(ConfigMap obj, boolean deletedFinalStateUnknown) {
            }
          });
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> seen.containsKey("before-restart"));

        int port = kube.port();
        kube.stopApiServer();
        assertThat(kube.isApiServerRunning()).isFalse();
        Config noRetry = kube.config();
        noRetry.setRequestRetryBackoffLimit(0);
        try (KubernetesClient c = new KubernetesClientBuilder().withConfig(noRetry).build()) {
          assertThatThrownBy(() -> c.configMaps().inNamespace("default").withName("before-restart").get())
              .isInstanceOf(KubernetesClientException.class);
        }
        kube.startApiServer();
        assertThat(kube.port()).isEqualTo(port);
        assertThat(client.configMaps().inNamespace("default").withName("before-restart").get()).isNotNull();

        // the informer's watch reconnects by itself and sees objects created after the restart
        client.configMaps().inNamespace("default").resource(cm("after-restart")).create();
        await().atMost(Duration.ofSeconds(60)).until(() -> seen.containsKey("after-restart"));

        // a crash (SIGKILL) followed by a start works the same way
        java.time.Instant beforeKill = java.time.Instant.now();
        kube.killApiServer();
        assertThat(kube.isApiServerRunning()).isFalse();
        java.time.Instant down = java.time.Instant.now();
        assertThat(kube.wasNotReadyAt(down, Duration.ZERO)).as("down").isTrue();
        kube.startApiServer();
        java.time.Instant ready = java.time.Instant.now();
        assertThat(kube.wasNotReadyAt(down, Duration.ZERO)).as("down, afterwards").isTrue();
        assertThat(kube.wasNotReadyAt(beforeKill.minusMillis(1), Duration.ZERO)).as("before the kill").isFalse();
        assertThat(kube.wasNotReadyAt(ready.plusSeconds(5), Duration.ofSeconds(2))).as("ready again").isFalse();
        assertThat(client.configMaps().inNamespace("default").withName("after-restart").get()).isNotNull();
        client.configMaps().inNamespace("default").resource(cm("after-crash")).create();
        await().atMost(Duration.ofSeconds(60)).until(() -> seen.containsKey("after-crash"));

        // the audit log goes on in the same file after restarts
        assertThat(kube.audit().all().byVerb("create").byResource("configmaps").stream()
            .map(AuditEvent::name)).contains("before-restart", "after-restart", "after-crash");
      } finally {
        informer.close();
      }
    }
    for (ProcessHandle p : children) {
      assertThat(p.isAlive()).as("%s still running after close()", p.info().command().orElse("?")).isFalse();
    }
    assertThat(workDir).doesNotExist();
  }

  @Test
  void processesEndWhenTheJvmThatStartedThemIsKilled(@TempDir Path workDir) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        KubeApiServerMain.class.getName(), "--controller-manager", "--work-dir", workDir.toString());
    Process jvm = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8));
      String kubeconfig = null;
      StringBuilder seen = new StringBuilder();
      for (String line; (line = out.readLine()) != null; ) {
        seen.append(line).append('\n');
        if (line.startsWith("KUBECONFIG=")) {
          kubeconfig = line.substring("KUBECONFIG=".length());
        }
        if (line.equals("READY")) {
          break;
        }
      }
      assertThat(kubeconfig).as("output of KubeApiServerMain:\n%s", seen).isNotNull();
      assertThat(Path.of(kubeconfig)).exists();
      List<ProcessHandle> servers = jvm.descendants()
          .filter(p -> p.info().command().map(c -> c.matches(".*/(etcd|kube-apiserver|kube-controller-manager)$"))
              .orElse(false))
          .toList();
      assertThat(servers).hasSize(3);

      jvm.destroyForcibly(); // SIGKILL: no shutdown hook runs
      assertThat(jvm.waitFor(10, TimeUnit.SECONDS)).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> servers.stream().noneMatch(ProcessHandle::isAlive));
    } finally {
      jvm.destroyForcibly();
    }
  }

  @Test
  void missingBinariesNameTheBuildCommand(@TempDir Path dir) {
    KubeBinaries none = new KubeBinaries(dir.resolve("k8s/9.9.9-linux-amd64"), "9.9.9");
    assertThatThrownBy(() -> KubeApiServer.builder().binaries(none).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("kube-apiserver")
        .hasMessageContaining("etcd")
        .hasMessageContaining("bash tools/build-binaries.sh");
  }

  @Test
  void theVersionComesFromTheGoModulePin() {
    assertThat(KubeBinaries.pinnedVersion()).hasValueSatisfying(v -> assertThat(v).matches("1\\.\\d+\\.\\d+"));
    if (System.getenv("TSOP_KUBE_VERSION") == null && System.getProperty("tsop.kube.version") == null) {
      assertThat(KubeBinaries.locate().version()).isEqualTo(KubeBinaries.pinnedVersion().orElseThrow());
    }
    assertThat(KubeBinaries.locate().dir()).hasParentRaw(KubeBinaries.cacheRoot().resolve("k8s"));
  }

  @Test
  void temporaryWorkDirIsRemovedWhenStartFailsOnMissingBinaries(@TempDir Path dir) throws Exception {
    KubeBinaries none = new KubeBinaries(dir.resolve("missing"), "9.9.9");
    KubeApiServer server = KubeApiServer.builder().binaries(none).build();
    assertThat(server.workDir()).exists();
    assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
    assertThat(Files.exists(server.workDir())).isFalse();
  }

  private static ConfigMap cm(String name) {
    return new ConfigMapBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
        .addToData("k", "v").build();
  }
}
