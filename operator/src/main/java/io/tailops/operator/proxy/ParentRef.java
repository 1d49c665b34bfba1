package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * The user's object a proxy serves: a Service or an Ingress, identified by kind, namespace, name and UID.
 *
 * @param type value of the {@code tailscale.com/parent-resource-type} label ({@code svc} or {@code ingress})
 */
public record ParentRef(String type, String namespace, String name, String uid) {
  public static final String TYPE_SERVICE = "svc";
  public static final String TYPE_INGRESS = "ingress";

  public static ParentRef of(String type, HasMetadata obj) {
    return new ParentRef(type, obj.getMetadata().getNamespace(), obj.getMetadata().getName(),
        obj.getMetadata().getUid());
  }

  /** {@code namespace/name}, how users write it. */
  public String key() {
    return namespace + "/" + name;
  }

  /** Human kind, for messages. */
  public String kind() {
    return TYPE_INGRESS.equals(type) ? "Ingress" : "Service";
  }

  @Override
  public String toString() {
    return kind() + " " + key();
  }
}
