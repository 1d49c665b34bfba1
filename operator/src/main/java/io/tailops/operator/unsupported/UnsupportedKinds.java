package io.tailops.operator.unsupported;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.Operator;
import io.tailops.api.v1alpha1.ConditionedStatus;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.reconcile.OperatorContext;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The kinds this operator does not implement yet: their reconcilers and their doctor checks. */
public final class UnsupportedKinds {
  private static final Logger LOG = LoggerFactory.getLogger(UnsupportedKinds.class);
  private static final int NAMES_SHOWN = 10;

  private UnsupportedKinds() {
  }

  /** An unsupported kind and how to make its reconciler. */
  record Entry(UnsupportedKind kind, Function<OperatorContext, UnsupportedKindReconciler<?>> reconciler) {
  }

  /** One line per unsupported kind: remove a kind's line (and its class) when the kind is implemented. */
  static final List<Entry> ENTRIES = List.<Entry>of(
      // none: every kind is served
  );

  /** The unsupported kinds. */
  public static List<UnsupportedKind> kinds() {
    return ENTRIES.stream().map(Entry::kind).toList();
  }

  /**
   * Registers the reconciler of each unsupported kind whose CRD is installed (the chart installs them all; a kind
   * whose CRD is missing has no objects to report, and watching it would only log errors). Before the operator
   * starts.
   */
  public static void register(Operator operator, OperatorContext ctx) {
    for (Entry e : ENTRIES) {
      if (!crdInstalled(ctx.client(), e.kind())) {
        LOG.info("the CRD {} is not installed: {} objects are not watched", e.kind().crdName(), e.kind().kind());
        continue;
      }
      registerOne(operator, e.reconciler().apply(ctx));
    }
  }

  private static <R extends CustomResource<?, ? extends ConditionedStatus>> void registerOne(Operator operator,
      UnsupportedKindReconciler<R> reconciler) {
    operator.register(reconciler, c -> c.withName(reconciler.name()).withGenerationAware(true)
        .withItemStore(new io.tailops.operator.k8s.StoreWithoutManagedFields<>()));
  }

  /** Whether the kind's CRD is served; true also when that cannot be told (the informer then retries). */
  static boolean crdInstalled(KubernetesClient client, UnsupportedKind kind) {
    try {
      client.resources(kind.type()).list(new ListOptionsBuilder().withLimit(1L).build());
      return true;
    } catch (KubernetesClientException e) {
      return e.getCode() != 404;
    }
  }

  /**
   * One doctor check per unsupported kind that has objects (FAIL: they are not acted on), or a single OK check when
   * none has any.
   */
  public static List<Doctor.Check> doctorChecks(KubernetesClient client) {
    List<Doctor.Check> out = new ArrayList<>();
    for (UnsupportedKind kind : kinds()) {
      List<String> names;
      try {
        names = client.resources(kind.type()).list().getItems().stream()
            .map(o -> o.getMetadata().getName()).sorted().toList();
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404) {
          continue;
        }
        out.add(new Doctor.Check("not supported: " + kind.kind(), Doctor.Status.WARN, "cannot list " + kind.kind()
            + " objects: " + e.getMessage(), "check the operator's RBAC (the chart grants list on " + kind.crdName()
            + ")"));
        continue;
      }
      if (!names.isEmpty()) {
        String shown = names.stream().limit(NAMES_SHOWN).collect(Collectors.joining(", "))
            + (names.size() > NAMES_SHOWN ? " and " + (names.size() - NAMES_SHOWN) + " more" : "");
        out.add(new Doctor.Check("not supported: " + kind.kind(), Doctor.Status.FAIL, names.size() + " "
            + kind.kind() + " object(s) (" + shown + ") are not acted on: " + kind.whatDoesNotHappen()
            + " (condition " + kind.conditionType() + "=False, reason " + UnsupportedKind.REASON + ")",
            "run the official Tailscale operator for them (switch the Helm release back to the official chart: "
                + "nothing is lost), or delete them if you do not need them"));
      }
    }
    if (out.isEmpty() && !kinds().isEmpty()) {
      out.add(new Doctor.Check("unsupported kinds", Doctor.Status.OK, "no " + kinds().stream()
          .map(UnsupportedKind::kind).collect(Collectors.joining(", ")) + " objects (not supported by this operator "
          + "yet)", ""));
    }
    return out;
  }
}
