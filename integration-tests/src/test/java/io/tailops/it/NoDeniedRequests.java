package io.tailops.it;

import io.tailops.local.OperatorEnvironment;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After every test of this module: no request of the operator or of a proxy was denied by the chart's RBAC
 * ({@link OperatorEnvironment#assertNoDeniedRequests()}). Registered for every test class through the JUnit
 * extension service file (META-INF/services) and {@code junit.jupiter.extensions.autodetection.enabled}, so a test
 * of a new kind is checked without asking for it.
 */
public final class NoDeniedRequests implements AfterEachCallback {
  @Override
  public void afterEach(ExtensionContext context) {
    OperatorEnvironment.assertNoDeniedRequests();
  }
}
