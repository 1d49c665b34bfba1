package io.tailops.operator.connector;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.operator.doctor.Doctor;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code doctor} says about Connectors: one line per Connector that is not ready (its {@code ConnectorReady}
 * reason and message, and the fix for that reason), a warning per ready Connector whose route approval or app
 * connector definition could not be checked, and one OK line for the rest.
 */
public final class ConnectorDoctor {
  private ConnectorDoctor() {
  }

  public static List<Doctor.Check> checks(KubernetesClient client) {
    List<Connector> all;
    try {
      all = client.resources(Connector.class).list().getItems();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return List.of(); // no Connector CRD: nothing to serve
      }
      return List.of(new Doctor.Check("connectors", Doctor.Status.WARN, "cannot list Connectors: " + e.getMessage(),
          "check the operator's RBAC (the chart grants list on connectors.tailscale.com)"));
    }
    List<Doctor.Check> out = new ArrayList<>();
    List<String> ready = new ArrayList<>();
    for (Connector c : all) {
      String name = c.getMetadata().getName();
      Optional<Condition> cond = c.getStatus() == null ? Optional.empty() : c.getStatus().getConditions().stream()
          .filter(x -> ConnectorStatusProjector.CONDITION.equals(x.getType())).findFirst();
      if (cond.isEmpty()) {
        out.add(new Doctor.Check("connector " + name, Doctor.Status.WARN, "not reconciled yet (no ConnectorReady "
            + "condition)", "wait a moment; if it stays, look at the operator's log"));
        continue;
      }
      Condition r = cond.get();
      if ("True".equals(r.getStatus())) {
        if (r.getMessage() != null && r.getMessage().contains("was not checked")) {
          out.add(new Doctor.Check("connector " + name, Doctor.Status.WARN, r.getMessage(), fix(r.getMessage())));
        } else {
          ready.add(name);
        }
        continue;
      }
      boolean waiting = ConnectorStatusProjector.REASON_CREATING.equals(r.getReason());
      out.add(new Doctor.Check("connector " + name, waiting ? Doctor.Status.WARN : Doctor.Status.FAIL,
          r.getReason() + ": " + r.getMessage(), fix(r.getReason())));
    }
    if (!ready.isEmpty()) {
      out.add(new Doctor.Check("connectors", Doctor.Status.OK, ready.size() + " ready (" + String.join(", ", ready)
          + ")", ""));
    }
    return out;
  }

  private static String fix(String reasonOrMessage) {
    if (reasonOrMessage.contains("devices:routes:read")) {
      return "give the OAuth client the devices:routes:read scope so that the operator can tell whether routes are "
          + "approved";
    }
    if (reasonOrMessage.contains("policy_file:read")) {
      return "give the OAuth client the policy_file:read scope so that the operator can check app connectors";
    }
    return switch (reasonOrMessage) {
      case ConnectorStatusProjector.REASON_ROUTES_NOT_APPROVED, ConnectorStatusProjector.REASON_EXIT_NODE_NOT_APPROVED ->
          "approve the routes as the message says (admin console, headscale nodes approve-routes, or the policy's "
              + "autoApprovers)";
      case ConnectorStatusProjector.REASON_APP_CONNECTOR_NOT_CONFIGURED ->
          "add the app connector definition named in the message to the tailnet policy";
      case ConnectorStatusProjector.REASON_APP_CONNECTOR_NOT_SUPPORTED ->
          "use a subnet router with the applications' routes instead of an app connector";
      case ConnectorPlanner.REASON_INVALID -> "fix the Connector's spec as the message says";
      case ConnectorStatusProjector.REASON_SCALED_TO_ZERO -> "set spec.replicas to 1 or more";
      case ConnectorStatusProjector.REASON_CREATING -> "wait for the devices; if it stays, look at the proxy pods' "
          + "logs (kubectl logs -n <operator namespace> -l tailscale.com/parent-resource-type=connector)";
      default -> "see the message; kubectl describe connector shows the events";
    };
  }
}
