package io.tailops.testkit.kube;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The other half of {@link SharedServerFirstTest}. */
class SharedServerSecondTest {

  @RegisterExtension
  static final KubeApiServerExtension KUBE = new KubeApiServerExtension().sharedPerJvm();

  @Test
  void usesTheSharedServer() {
    SharedServerFirstTest.checkShared(getClass().getSimpleName(), KUBE);
  }
}
