package io.tailops.operator.k8s;

import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.status.Conditions;
import java.util.Objects;
import java.util.Optional;

/** ProxyClass readiness as the official operator defines it (§4.2): Ready=True for the current generation. */
public final class ProxyClasses {
  private ProxyClasses() {
  }

  public static boolean isReady(ProxyClass pc) {
    Optional<Condition> c = ready(pc);
    if (c.isEmpty() || !"True".equals(c.get().getStatus())) {
      return false;
    }
    // Deleting a custom resource bumps its generation; a class being deleted keeps the spec it was validated with.
    return pc.getMetadata().getDeletionTimestamp() != null
        || Objects.equals(c.get().getObservedGeneration(), pc.getMetadata().getGeneration());
  }

  /** A short explanation to append to messages ("" when nothing useful is known). */
  public static String whyNotReady(ProxyClass pc) {
    Optional<Condition> c = ready(pc);
    if (c.isEmpty()) {
      return " (the operator has not validated it yet)";
    }
    if ("False".equals(c.get().getStatus())) {
      return " (" + c.get().getMessage() + ")";
    }
    return "";
  }

  /** Whether the class asks for ephemeral proxy devices ({@code spec.tailscale.ephemeral}, this operator's extension). */
  public static boolean ephemeral(ProxyClass pc) {
    return pc != null && pc.getSpec() != null && pc.getSpec().getTailscale() != null
        && Boolean.TRUE.equals(pc.getSpec().getTailscale().getEphemeral());
  }

  private static Optional<Condition> ready(ProxyClass pc) {
    return pc.getStatus() == null ? Optional.empty()
        : Conditions.find(pc.getStatus().getConditions(), TailscaleKeys.CONDITION_PROXY_CLASS_READY);
  }
}
