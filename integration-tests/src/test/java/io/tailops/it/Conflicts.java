package io.tailops.it;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.function.Supplier;

/**
 * A test's own read-modify-write (fabric8 {@code edit}) races the operator, which writes the same object's status,
 * finalizers or annotations; the API server then answers 409 Conflict. A user's {@code kubectl edit} would simply be
 * repeated, so the test repeats it too: the edit function is applied again to the fresh object.
 */
public final class Conflicts {
  private static final int ATTEMPTS = 10;

  private Conflicts() {}

  public static <T> T retry(Supplier<T> edit) {
    for (int attempt = 1; ; attempt++) {
      try {
        return edit.get();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= ATTEMPTS) {
          throw e;
        }
        try {
          Thread.sleep(20L * attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
