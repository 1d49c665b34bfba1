package io.tailops.it.golden;

import io.tailops.testkit.tailscale.FakeTailscaleApi;

/**
 * The tailnet both operators find in a golden run (the same for the capture and the comparison): the fake Tailscale
 * API's default policy plus what the inputs need, i.e. the operator's tag owns {@code tag:subnet-router} (the
 * Connector {@code cn-tagged} asks for it).
 */
final class GoldenTailnet {
  private GoldenTailnet() {
  }

  static void prepare(FakeTailscaleApi api) {
    api.tagOwner("tag:subnet-router", "tag:k8s-operator");
  }
}
