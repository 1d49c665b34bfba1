package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.status.Conditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Doctor's lines about Recorders: one FAIL per Recorder that is not ready, with its condition's reason and message. */
public final class RecorderDoctor {
  private RecorderDoctor() {
  }

  public static List<Doctor.Check> checks(KubernetesClient client) {
    List<Recorder> recorders;
    try {
      recorders = client.resources(Recorder.class).list().getItems();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return List.of();
      }
      return List.of(new Doctor.Check("recorders", Doctor.Status.WARN, "cannot list Recorders: " + e.getMessage(),
          "check the operator's RBAC (the chart grants list on " + Recorder.CRD_NAME + ")"));
    }
    return checks(recorders);
  }

  /** The lines for these Recorders. */
  public static List<Doctor.Check> checks(List<Recorder> recorders) {
    List<Doctor.Check> out = new ArrayList<>();
    for (Recorder r : recorders) {
      Optional<Condition> ready = Conditions.find(r.getStatus() == null ? null : r.getStatus().getConditions(),
          ConditionTypes.RECORDER_READY);
      if (ready.isPresent() && "True".equals(ready.get().getStatus())) {
        continue;
      }
      String name = r.getMetadata().getName();
      out.add(ready.map(c -> new Doctor.Check("recorder " + name, Doctor.Status.FAIL, "Recorder " + name
              + " is not ready (" + ConditionTypes.RECORDER_READY + "=False, reason " + c.getReason() + "): "
              + c.getMessage(), fix(c.getReason())))
          .orElseGet(() -> new Doctor.Check("recorder " + name, Doctor.Status.WARN, "Recorder " + name
              + " has no " + ConditionTypes.RECORDER_READY + " condition yet", "wait for the operator to reconcile "
              + "it; if it stays so, look at the operator's log")));
    }
    if (out.isEmpty() && !recorders.isEmpty()) {
      out.add(new Doctor.Check("recorders", Doctor.Status.OK, recorders.size() + " Recorder(s) ready", ""));
    }
    return out;
  }

  private static String fix(String reason) {
    return RecorderStatusProjection.INVALID.equals(reason)
        ? "fix the Recorder's spec as the message says (kubectl edit recorder)"
        : "see the Recorder's events (kubectl describe recorder); for tags: the operator's own tag must own them "
            + "(tagOwners in the tailnet policy)";
  }
}
