package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.util.ArrayList;
import java.util.List;

/**
 * What one proxy's pods may do in the Kubernetes API: a ServiceAccount, a Role and a RoleBinding of their own, all
 * named like the proxy. The Role lets containerboot and tailscaled read and write <b>only this proxy's own state
 * Secrets</b> ({@code resourceNames}: {@code <name>-0} … one per replica), and record Events about their Pod; nothing
 * else. The official operator runs every proxy as the shared ServiceAccount {@code proxies}, whose Role reads and writes
 * every Secret of the operator namespace, the OAuth client's {@code operator-oauth} and every other proxy's node key
 * included, from pods that are privileged (kernel mode) and face the tailnet.
 *
 * <p>What containerboot (v1.94.2) checks and calls: {@code get}, {@code update} (required) and {@code patch} on its
 * state Secret ({@code TS_KUBE_SECRET}, the pod's name); {@code create} on Secrets is optional and not granted (the
 * operator creates the Secret); Events: {@code get}, {@code create}, {@code patch} (Event names cannot be known in
 * advance, so these are not restricted by name; Events hold no secrets).
 */
public record ProxyAccess(ServiceAccount serviceAccount, Role role, RoleBinding roleBinding) {

  /** The types of the access objects (informers watch them; cleanup lists them). */
  public static final List<Class<? extends HasMetadata>> TYPES = List.of(ServiceAccount.class, Role.class,
      RoleBinding.class);

  /** The access objects of proxy {@code name} whose replicas' state Secrets are {@code secretNames}. */
  public static ProxyAccess build(ProxySpec spec, String name, List<String> secretNames, String namespace) {
    var labels = ChildLabels.of(spec.parent());
    ServiceAccount sa = new ServiceAccountBuilder().withNewMetadata().withName(name).withNamespace(namespace)
        .withLabels(labels).endMetadata().build();
    Role role = new RoleBuilder().withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels)
        .endMetadata()
        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                .withResourceNames(List.copyOf(secretNames)).withVerbs("get", "update", "patch").build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("events").withVerbs("get", "create", "patch")
                .build())
        .build();
    RoleBinding binding = new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(namespace)
        .withLabels(labels).endMetadata()
        .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
        .addNewSubject().withKind("ServiceAccount").withName(name).withNamespace(namespace).endSubject()
        .build();
    return new ProxyAccess(sa, role, binding);
  }

  /** The three objects, in the order they are created (the binding last). */
  public List<HasMetadata> objects() {
    return List.of(serviceAccount, role, roleBinding);
  }

  /**
   * Where a live object differs from the desired one in the fields the operator owns (labels; a Role's rules; a
   * RoleBinding's role and subjects). Empty when it matches.
   */
  public static List<String> differences(HasMetadata want, HasMetadata live) {
    List<String> diff = new ArrayList<>(Drift.differences(want.getMetadata().getLabels(),
        live.getMetadata().getLabels(), "metadata.labels"));
    if (want instanceof Role w && live instanceof Role l) {
      diff.addAll(Drift.differences(w.getRules(), l.getRules(), "rules"));
    } else if (want instanceof RoleBinding w && live instanceof RoleBinding l) {
      diff.addAll(Drift.differences(w.getRoleRef(), l.getRoleRef(), "roleRef"));
      diff.addAll(Drift.differences(w.getSubjects(), l.getSubjects(), "subjects"));
    }
    return diff;
  }
}
