package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;

/**
 * The user's object a proxy serves (a Service, an Ingress, later a Connector, ...), identified by type, namespace (null
 * for cluster-scoped kinds), name and UID.
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

  /** {@code namespace/name} (just the name for cluster-scoped parents), how users write it. */
  public String key() {
    return namespace == null || namespace.isEmpty() ? name : namespace + "/" + name;
  }

  /** Human kind, for messages. */
  public String kind() {
    return switch (type) {
      case TYPE_SERVICE -> "Service";
      case TYPE_INGRESS -> "Ingress";
      default -> type;
    };
  }

  @Override
  public String toString() {
    return kind() + " " + key();
  }
}
