package io.tailops.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.operator.proxy.ProvisionException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryingReconcileTest {
  @Test
  void findsTheControlPlanesRetryAfterBehindAProvisioningFailure() {
    ControlPlaneException limited = new ControlPlaneException(Kind.RATE_LIMITED, 429, null, "HTTP 429", null,
        Duration.ofSeconds(42));
    ProvisionException e = new ProvisionException("failed to create an auth key", "AuthKeyFailed", true, limited);
    assertThat(RetryingReconcile.retryAfter(e)).contains(Duration.ofSeconds(42));
  }

  @Test
  void noHintWithoutRetryAfter() {
    ControlPlaneException error = new ControlPlaneException(Kind.SERVER_ERROR, 500, null, "HTTP 500");
    assertThat(RetryingReconcile.retryAfter(new ProvisionException("x", "AuthKeyFailed", true, error))).isEmpty();
    assertThat(RetryingReconcile.retryAfter(new ProvisionException("x", "ApiError", true, null))).isEmpty();
  }
}
