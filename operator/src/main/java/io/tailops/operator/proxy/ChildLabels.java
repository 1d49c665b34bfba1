package io.tailops.operator.proxy;

import static io.tailops.operator.k8s.TailscaleKeys.LABEL_MANAGED;
import static io.tailops.operator.k8s.TailscaleKeys.LABEL_PARENT_NAME;
import static io.tailops.operator.k8s.TailscaleKeys.LABEL_PARENT_NAMESPACE;
import static io.tailops.operator.k8s.TailscaleKeys.LABEL_PARENT_TYPE;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The labels every object created for a parent carries. Owner references cannot cross namespaces, so the operator
 * tracks its objects by these labels, exactly as the official operator does. A label value has at most 63 characters
 * while an Ingress (or Connector, ProxyGroup) name may have up to 253: such a name is carried in
 * {@code tailscale.com/parent-resource} as {@link DerivedNames#labelValue} makes it (cut, with a hash of the whole
 * name), and mapped back to its parent through an index of the parents by that value. Names that fit are kept as
 * they are, as upstream.
 */
public final class ChildLabels {
  private ChildLabels() {
  }

  /**
   * The label of the ClusterIP Service and EndpointSlice of a Service egressing through a ProxyGroup
   * ({@code tailscale.com/svc-type: egress}): they carry the Service's parent labels too but are no proxy of it.
   */
  public static final String LABEL_SVC_TYPE = "tailscale.com/svc-type";
  public static final String EGRESS = "egress";

  public static Map<String, String> of(ParentRef parent) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_MANAGED, "true");
    labels.put(LABEL_PARENT_NAME, DerivedNames.labelValue(parent.name()));
    labels.put(LABEL_PARENT_NAMESPACE, parent.namespace() == null ? "" : parent.namespace());
    labels.put(LABEL_PARENT_TYPE, parent.type());
    return labels;
  }

  /**
   * The label selector of a parent's objects: its child labels, without the namespace label for a cluster-scoped
   * parent (the official operator labels a ProxyGroup's objects without it, a Connector's with an empty value), so
   * that both are found.
   */
  public static Map<String, String> selector(ParentRef parent) {
    Map<String, String> labels = of(parent);
    if (parent.namespace() == null || parent.namespace().isEmpty()) {
      labels.remove(LABEL_PARENT_NAMESPACE);
    }
    return labels;
  }

  /**
   * The parent named by an object's child labels, if it has them and is of {@code type}. A missing namespace label
   * means a cluster-scoped parent (the official operator labels a ProxyGroup's objects without it). Its name is the
   * label's value: for a parent whose name is too long for a label, the value {@link DerivedNames#labelValue} makes of it.
   */
  public static Optional<ParentRef> parentOf(Map<String, String> labels, String type) {
    if (labels == null || !"true".equals(labels.get(LABEL_MANAGED)) || !type.equals(labels.get(LABEL_PARENT_TYPE))
        || EGRESS.equals(labels.get(LABEL_SVC_TYPE))) {
      return Optional.empty();
    }
    String name = labels.get(LABEL_PARENT_NAME);
    if (name == null) {
      return Optional.empty();
    }
    return Optional.of(new ParentRef(type, labels.getOrDefault(LABEL_PARENT_NAMESPACE, ""), name, null));
  }

  /** The key of the index that maps a label-named parent back to the parent: {@code <namespace>/<label value>}. */
  public static String labelKey(String namespace, String name) {
    return (namespace == null ? "" : namespace) + "/" + DerivedNames.labelValue(name);
  }

  /** {@code namespace/name} of an object, or its name when it is cluster-scoped. */
  public static String describe(io.fabric8.kubernetes.api.model.HasMetadata obj) {
    String ns = obj.getMetadata().getNamespace();
    return ns == null || ns.isEmpty() ? obj.getMetadata().getName() : ns + "/" + obj.getMetadata().getName();
  }

  /**
   * Whether an object with the parent's child labels is part of the parent's own proxy, which its removal deletes. Two
   * kinds of object carry a parent's labels but belong to a ProxyGroup serving it: the ClusterIP Service and
   * EndpointSlice of a Service egressing through the group ({@code tailscale.com/svc-type: egress}), and the TLS
   * Secret the group's replicas issue an HA Ingress's certificate into ({@code tailscale.com/secret-type: certs}; a
   * kube-apiserver group's own certificate Secret is the group's).
   */
  public static boolean isProxyObjectOf(io.fabric8.kubernetes.api.model.HasMetadata obj, ParentRef parent) {
    Map<String, String> labels = obj.getMetadata().getLabels();
    if (!belongsTo(labels, parent)) {
      return false;
    }
    boolean served = ParentRef.TYPE_INGRESS.equals(parent.type()) || ParentRef.TYPE_SERVICE.equals(parent.type());
    return !(served && obj instanceof io.fabric8.kubernetes.api.model.Secret
        && "certs".equals(labels.get(ReplicaState.LABEL_SECRET_TYPE)));
  }

  /** Whether the labels belong to a proxy of the given parent (namespace, name and type; UID is not a label). */
  public static boolean belongsTo(Map<String, String> labels, ParentRef parent) {
    String ns = parent.namespace() == null ? "" : parent.namespace();
    return parentOf(labels, parent.type())
        .filter(p -> p.namespace().equals(ns) && p.name().equals(DerivedNames.labelValue(parent.name())))
        .isPresent();
  }
}
