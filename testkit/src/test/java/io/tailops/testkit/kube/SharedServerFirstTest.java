package io.tailops.testkit.kube;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** With {@link KubeApiServerExtension#sharedPerJvm()}, test classes share one server (see SharedServerSecondTest). */
class SharedServerFirstTest {

  /** URL seen by each class that uses the shared server. */
  static final Map<String, String> SEEN = new ConcurrentHashMap<>();

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension().sharedPerJvm();

  @Test
  void usesTheSharedServer() {
    checkShared(getClass().getSimpleName(), KUBE);
  }

  static void checkShared(String me, KubeApiServerExtension kube) {
    assertThat(kube.client().namespaces().withName("default").get()).isNotNull();
    SEEN.put(me, kube.server().url());
    assertThat(SEEN.values()).as("every class saw the same server").containsOnly(kube.server().url());
  }
}
