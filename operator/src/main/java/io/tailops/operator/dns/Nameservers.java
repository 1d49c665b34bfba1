package io.tailops.operator.dns;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The decisions about DNSConfigs, without API calls: which one is served (there is one nameserver per cluster), and the
 * status each gets ({@code NameserverReady} with upstream's reasons and {@code status.nameserver.ip}).
 *
 * <p>Upstream, a second DNSConfig makes both report {@code MultipleDNSConfigsPresent} for a moment and then both
 * {@code NameserverReady=True}, while both own the same objects; here the oldest one is served and every other one
 * keeps {@code NameserverReady=False/MultipleDNSConfigsPresent} (and a Warning Event) until it is deleted.
 */
public final class Nameservers {
  public static final String CONDITION = "NameserverReady";
  public static final String REASON_CREATED = "NameserverCreated";
  public static final String REASON_MULTIPLE = "MultipleDNSConfigsPresent";
  public static final String REASON_FAILED = "NameserverCreationFailed";
  /** Upstream's message for a second DNSConfig. */
  public static final String MESSAGE_MULTIPLE =
      "Multiple DNSConfig resources found in cluster. Please ensure no more than one is present.";

  private Nameservers() {
  }

  /** The DNSConfig that is served: the oldest one not being deleted (by creation time, then name). */
  public static Optional<DNSConfig> served(List<DNSConfig> all) {
    return all.stream().filter(d -> d.getMetadata().getDeletionTimestamp() == null)
        .min(Comparator.comparing((DNSConfig d) -> Objects.toString(d.getMetadata().getCreationTimestamp(), ""))
            .thenComparing(d -> d.getMetadata().getName()));
  }

  /** Whether {@code dc} is ready: its {@code NameserverReady} condition is True (what the records wait for). */
  public static boolean isReady(DNSConfig dc) {
    return dc.getStatus() != null && Conditions.find(dc.getStatus().getConditions(), CONDITION)
        .map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /** The problem of a DNSConfig that is not served because {@code served} is. */
  public static Problem notServed(DNSConfig served) {
    return Problem.warning(REASON_MULTIPLE, MESSAGE_MULTIPLE + " The nameserver serves DNSConfig "
        + served.getMetadata().getName() + " (the oldest); delete this one.");
  }

  /** The cluster IP of the nameserver Service, once it has one. */
  public static Optional<String> address(Service nameserver) {
    String ip = nameserver == null || nameserver.getSpec() == null ? null : nameserver.getSpec().getClusterIP();
    return ip == null || ip.isEmpty() || "None".equals(ip) ? Optional.empty() : Optional.of(ip);
  }

  /**
   * The conditions {@code dc} should have: True/NameserverCreated once the Service has its address, False with the
   * problem's reason when there is one; unchanged (empty) while the address is being allocated, as upstream.
   */
  public static Optional<List<Condition>> conditions(DNSConfig dc, Optional<String> address, Problem problem,
      Clock clock) {
    List<Condition> current = dc.getStatus() == null ? List.of() : dc.getStatus().getConditions();
    Long generation = dc.getMetadata().getGeneration();
    if (problem != null) {
      return Optional.of(Conditions.set(current, CONDITION, false, problem.reason(), problem.message(), generation,
          clock));
    }
    return address.map(ip -> Conditions.set(current, CONDITION, true, REASON_CREATED, REASON_CREATED, generation,
        clock));
  }
}
