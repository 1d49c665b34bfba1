package io.tailops.operator.unsupported;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.tailops.api.v1alpha1.ConditionedStatus;

/**
 * A kind this operator does not implement yet and what it tells about its objects.
 *
 * @param type the model class of the kind
 * @param conditionType the official condition type of the kind (e.g. {@code ConnectorReady})
 * @param whatDoesNotHappen what the official operator would do for such an object and this one does not, as the
 *     middle of the message: "no subnet router, exit node or app connector is deployed for it"
 */
public record UnsupportedKind(Class<? extends CustomResource<?, ? extends ConditionedStatus>> type,
    String conditionType, String whatDoesNotHappen) {
  /** The condition reason and the Event reason. */
  public static final String REASON = "NotSupported";

  /** The kind's name, e.g. {@code Connector}. */
  public String kind() {
    return HasMetadata.getKind(type);
  }

  /** The CRD's name, e.g. {@code connectors.tailscale.com}. */
  public String crdName() {
    return CustomResource.getCRDName(type);
  }

  /** The condition message and the Event message: what is not done, and what the user can do. */
  public String message() {
    return kind() + " is not supported by this operator yet: " + whatDoesNotHappen + ". The object is kept as it "
        + "is. To use it now, run the official Tailscale operator instead (switching the Helm release back to the "
        + "official chart keeps every object), or delete the object if you do not need it.";
  }
}
