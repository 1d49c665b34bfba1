package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.AuthKeyInfo;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.proxy.AuthKeys;
import io.tailops.operator.proxy.ProxySecrets;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key sweep: revokes the auth keys this operator minted that no Secret holds and no device used ({@link UnusedKeys}
 * decides). Runs when the operator becomes the leader and then with every device sweep
 * ({@code OPERATOR_DEVICE_SWEEP_INTERVAL}).
 *
 * <p>Cost: one key list per sweep; the Secrets of the operator namespace are listed only when a listed key is not
 * settled yet, and a key is read ({@code GET …/keys/{id}}, when the list names it only) once, plus once more right
 * before it is revoked. Keys found foreign, used or invalid are remembered for as long as the list names them.
 */
public final class UnusedKeySweep {
  private static final Logger LOG = LoggerFactory.getLogger(UnusedKeySweep.class);

  private final ControlPlane controlPlane;
  private final Supplier<List<Secret>> secrets;
  private final AuthKeys keys;
  private final Duration grace;
  private final Clock clock;
  private final Runnable onRevoked;
  /** Keys with a final verdict (foreign, used, invalid, revoked): not read again. */
  private final Set<String> settled = new HashSet<>();
  /** Details read earlier of keys not settled yet (young ones). */
  private final Map<String, AuthKeyInfo> details = new HashMap<>();
  private int revoked;

  /**
   * @param secrets the Secrets of the operator namespace, read when needed
   * @param onRevoked called after each revocation (metrics)
   */
  public UnusedKeySweep(ControlPlane controlPlane, Supplier<List<Secret>> secrets, AuthKeys keys, Duration grace,
      Clock clock, Runnable onRevoked) {
    this.controlPlane = controlPlane;
    this.secrets = secrets;
    this.keys = keys;
    this.grace = grace;
    this.clock = clock;
    this.onRevoked = onRevoked;
  }

  /** A sweep over every Secret of {@code namespace}. */
  public static UnusedKeySweep of(KubernetesClient client, String namespace, ControlPlane controlPlane, AuthKeys keys,
      Duration grace, Clock clock, Runnable onRevoked) {
    return new UnusedKeySweep(controlPlane, () -> client.secrets().inNamespace(namespace).list().getItems(), keys,
        grace, clock, onRevoked);
  }

  /** How many keys this sweep revoked since the process started. */
  public synchronized int revoked() {
    return revoked;
  }

  /**
   * Why this sweep revokes nothing, or empty when it works ({@link AuthKeys#sweepOffHere}): said at start-up, in
   * doctor and on the status ConfigMap, so that the missing feature is not silent.
   */
  public Optional<String> off() {
    return keys.sweepOffHere(controlPlane.capabilities());
  }

  /**
   * One sweep; returns the IDs of the keys revoked. Does nothing when no key is recognisably ours ({@link #off()}):
   * without a mark, or on a control plane whose keys have no description (headscale).
   */
  public synchronized List<String> sweep() {
    if (off().isPresent()) {
      return List.of();
    }
    List<AuthKeyInfo> listed;
    try {
      listed = controlPlane.listAuthKeys();
    } catch (ControlPlaneException e) {
      LOG.info("key sweep skipped: {}", e.userMessage());
      return List.of();
    }
    Set<String> ids = new HashSet<>();
    listed.forEach(k -> ids.add(k.id()));
    settled.retainAll(ids);
    details.keySet().retainAll(ids);
    if (settled.containsAll(ids)) {
      return List.of();
    }
    Set<String> held;
    try {
      held = heldKeyIds(secrets.get());
    } catch (KubernetesClientException e) {
      LOG.info("key sweep skipped: listing the Secrets failed: {}", e.getMessage());
      return List.of();
    }
    List<String> out = new java.util.ArrayList<>();
    for (AuthKeyInfo k : listed) {
      if (settled.contains(k.id())) {
        continue;
      }
      try {
        if (revokeIfUnused(k.detailed() ? k : details.getOrDefault(k.id(), k), held)) {
          out.add(k.id());
        }
      } catch (ControlPlaneException e) {
        LOG.info("key sweep: auth key {}: {}", k.id(), e.userMessage());
      }
    }
    return out;
  }

  private boolean revokeIfUnused(AuthKeyInfo k, Set<String> held) throws ControlPlaneException {
    boolean fresh = k.detailed() && !details.containsKey(k.id());
    UnusedKeys.Verdict v = UnusedKeys.judge(k, held, keys, clock.instant(), grace);
    if (v == UnusedKeys.Verdict.NEEDS_DETAILS || (v == UnusedKeys.Verdict.REVOKE && !fresh)) {
      Optional<AuthKeyInfo> read = controlPlane.getAuthKey(k.id());
      if (read.isEmpty()) {
        settled.add(k.id());
        return false;
      }
      k = read.get();
      v = UnusedKeys.judge(k, held, keys, clock.instant(), grace);
    }
    switch (v) {
      case REVOKE -> {
        controlPlane.deleteAuthKey(k.id());
        settled.add(k.id());
        details.remove(k.id());
        revoked++;
        LOG.info("revoked auth key {} ({}, minted {}): this operator minted it, no Secret holds it and no device used "
            + "it (a key lost between its mint and its Secret)", k.id(), k.description(), k.created());
        onRevoked.run();
        return true;
      }
      case FOREIGN, USED, INVALID -> {
        settled.add(k.id());
        details.remove(k.id());
      }
      case YOUNG -> details.put(k.id(), k);
      default -> {
        // HELD: judged again next time (its Secret may go)
      }
    }
    return false;
  }

  /** The IDs of the auth keys that {@code secrets} name ({@value ProxySecrets#AUTH_KEY_ID}). */
  public static Set<String> heldKeyIds(List<Secret> secrets) {
    Set<String> held = new HashSet<>();
    for (Secret s : secrets) {
      Map<String, String> a = s.getMetadata() == null ? null : s.getMetadata().getAnnotations();
      String id = a == null ? null : a.get(ProxySecrets.AUTH_KEY_ID);
      if (id != null && !id.isBlank()) {
        held.add(id.trim());
      }
    }
    return held;
  }
}
