package io.tailops.it.reliability;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeAuthKey;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the Secrets of the operator namespace (proxies' of every kind, Recorders') and the auth-key IDs the operator
 * stores on them ({@code tailscale.com/auth-key-id}), so that every key it minted in the fake tailnet can be
 * accounted for:
 *
 * <ul>
 *   <li><b>stored</b>: its ID was on a proxy Secret at some point (the normal case, and healer re-keys);
 *   <li><b>revoked unstored</b>: minted, never stored, but revoked by the operator (a Secret write that failed);
 *   <li><b>lost</b>: minted, never stored, still valid — a documented re-key: the operator died between minting
 *       and storing the key. Must not exceed the number of kills (or timed-out mint calls).
 * </ul>
 */
final class KeyLedger implements AutoCloseable {
  static final String AUTH_KEY_ID = "tailscale.com/auth-key-id";
  private final Set<String> storedKeyIds = ConcurrentHashMap.newKeySet();
  private final Map<String, Set<String>> keysPerProxy = new ConcurrentHashMap<>();
  private final SharedIndexInformer<Secret> informer;
  private final OperatorEnvironment env;

  KeyLedger(OperatorEnvironment env, KubernetesClient client) {
    this.env = env;
    this.informer = client.secrets().inNamespace(OperatorEnvironment.NAMESPACE).inform(new ResourceEventHandler<>() {
          @Override
          public void onAdd(Secret s) {
            seen(s);
          }

          @Override
          public void onUpdate(Secret oldObj, Secret s) {
            seen(s);
          }

          @Override
          public void onDelete(Secret s, boolean unknown) {
            seen(s);
          }
        }, 0);
  }

  private void seen(Secret s) {
    Map<String, String> a = s.getMetadata().getAnnotations();
    if (a != null && a.get(AUTH_KEY_ID) != null) {
      storedKeyIds.add(a.get(AUTH_KEY_ID));
      keysPerProxy.computeIfAbsent(s.getMetadata().getUid(), k -> ConcurrentHashMap.newKeySet())
          .add(a.get(AUTH_KEY_ID));
    }
  }

  /**
   * Secrets that carried a key so far (one per proxy lifetime: a Service's, Ingress's or Connector's one Secret, a
   * ProxyGroup replica's config Secret, a Recorder replica's auth-key Secret).
   */
  int proxiesCreated() {
    return keysPerProxy.size();
  }

  /** Proxy Secrets (by UID) that carried more than one auth-key ID over their life: re-keys. */
  Map<String, Set<String>> proxiesWithSeveralKeys() {
    Map<String, Set<String>> out = new java.util.TreeMap<>();
    keysPerProxy.forEach((uid, keys) -> {
      if (keys.size() > 1) {
        out.put(uid, Set.copyOf(keys));
      }
    });
    return out;
  }

  /** Keys minted by the self-healing re-registration (description "<operator> proxy reauth ..."). */
  List<FakeAuthKey> reauthKeys() {
    return minted().stream().filter(k -> k.description() != null && k.description().contains(" proxy reauth "))
        .toList();
  }

  /** Keys the operator minted (with its OAuth client): for proxies, Recorders, anything. */
  List<FakeAuthKey> minted() {
    String client = env.oauthClient().id();
    return env.tailnet().keys().stream().filter(k -> client.equals(k.createdBy())).toList();
  }

  List<FakeAuthKey> lost() {
    return minted().stream().filter(k -> !storedKeyIds.contains(k.id()) && !k.revoked()).toList();
  }

  List<FakeAuthKey> revokedUnstored() {
    return minted().stream().filter(k -> !storedKeyIds.contains(k.id()) && k.revoked()).toList();
  }

  /** Keys that could still register a device: neither used nor revoked. */
  List<FakeAuthKey> usable() {
    return minted().stream().filter(k -> !k.used() && !k.revoked()).toList();
  }

  String summary() {
    return "keys minted " + minted().size() + ", proxies created " + proxiesCreated() + ", lost (documented "
        + "re-keys) " + lost().size() + ", revoked unstored " + revokedUnstored().size() + ", still usable "
        + usable().size() + ", re-registration keys " + reauthKeys().size();
  }

  /**
   * Every minted key is accounted for: at most {@code failures} keys (kills, timed-out mints, failed Secret writes)
   * were minted without being stored on a proxy Secret; no stored key is left usable (a deleted proxy's unused key is
   * revoked, a live proxy's key is used); a proxy Secret carries a second key only through a re-registration.
   */
  void assertAccounted(int failures, String context) {
    assertAccounted(failures, failures, context);
  }

  /**
   * As {@link #assertAccounted(int, String)}, with separate allowances: {@code lostAllowed} keys never stored and
   * still valid, {@code unstoredAllowed} keys never stored in all (lost or revoked after a failed Secret write).
   */
  void assertAccounted(int lostAllowed, int unstoredAllowed, String context) {
    List<FakeAuthKey> lost = lost();
    List<FakeAuthKey> revoked = revokedUnstored();
    // A key lost between minting and storing (a kill, a timed-out answer) is valid only for the operator's short key
    // lifetime (OPERATOR_AUTH_KEY_EXPIRY, 30 minutes by default), not the control plane's 90 days.
    org.assertj.core.api.Assertions.assertThat(lost)
        .as("keys minted, never stored and still valid are short-lived; %s", context)
        .allSatisfy(k -> org.assertj.core.api.Assertions.assertThat(java.time.Duration.between(k.created(),
            k.expires())).isLessThanOrEqualTo(java.time.Duration.ofMinutes(30)));
    org.assertj.core.api.Assertions.assertThat(lost.size())
        .as("keys minted, never stored and still valid %s vs %d allowed; %s; %s", lost, lostAllowed, summary(),
            context)
        .isLessThanOrEqualTo(lostAllowed);
    org.assertj.core.api.Assertions.assertThat(lost.size() + revoked.size())
        .as("keys minted but never stored (lost %s, revoked %s) vs %d allowed; %s; %s", lost, revoked,
            unstoredAllowed, summary(), context)
        .isLessThanOrEqualTo(unstoredAllowed);
    org.assertj.core.api.Assertions.assertThat(minted().size())
        .as("keys minted vs proxies created + keys never stored + re-registrations; %s; %s", summary(), context)
        .isLessThanOrEqualTo(proxiesCreated() + lost.size() + revoked.size() + reauthKeys().size());
    Set<String> lostIds = new java.util.HashSet<>();
    lost.forEach(k -> lostIds.add(k.id()));
    org.assertj.core.api.Assertions.assertThat(usable()).as("stored keys still usable; %s", context)
        .allMatch(k -> lostIds.contains(k.id()));
    org.assertj.core.api.Assertions.assertThat(proxiesWithSeveralKeys().size())
        .as("proxies with more than one key %s; %s", proxiesWithSeveralKeys(), context)
        .isLessThanOrEqualTo(reauthKeys().size());
  }

  @Override
  public void close() {
    informer.close();
  }
}
