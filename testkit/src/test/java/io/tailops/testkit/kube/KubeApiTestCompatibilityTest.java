package io.tailops.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * The binary cache written by {@code tools/build-binaries.sh} is laid out as fabric8 kube-api-test 7.5.2 expects in
 * offline mode, so its {@code KubeAPIServer} and {@code @EnableKubeAPIServer} work too (with
 * {@code KUBE_API_TEST_DIR=<cache> KUBE_API_TEST_OFFLINE_MODE=true}).
 */
class KubeApiTestCompatibilityTest {

  @Test
  void kubeApiTestRunsOfflineFromTheBinaryCache(@TempDir Path testDir) throws Exception {
    KubeBinaries binaries = KubeBinaries.locate()
        .require(KubeBinaries.KUBE_APISERVER, KubeBinaries.ETCD, KubeBinaries.KUBECTL);
    // kube-api-test writes its certificates into its test folder: point it at a private folder whose k8s/ is the
    // shared cache's, rather than at the cache itself.
    Files.createSymbolicLink(testDir.resolve("k8s"), binaries.dir().getParent());

    KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
        .withTestDir(testDir.toString())
        .withOfflineMode(true)
        .withApiServerVersion(binaries.version())
        .build());
    server.start();
    try (KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build()) {
      assertThat(client.getKubernetesVersion().getGitVersion()).isEqualTo("v" + binaries.version());
      assertThat(client.namespaces().withName("default").get()).isNotNull();
    } finally {
      server.stop();
    }
  }
}
