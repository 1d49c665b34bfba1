package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.reconcile.OperatorContext;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate resources of a Tailscale Service's MagicDNS name {@code <domain>} on a ProxyGroup (official
 * {@code ensureCertResources}/{@code cleanupCertResources}): the TLS Secret {@code <domain>} the group's first replica
 * issues the certificate into (the others read it), and the Role and RoleBinding {@code <domain>} that let the group's
 * pods manage that Secret alone. One writer for the HA Ingress and the kube-apiserver group controllers, each of which
 * watches the three kinds with its own informers (they map to different parents).
 */
final class CertificateResources<P extends HasMetadata> {
  private static final Logger LOG = LoggerFactory.getLogger(CertificateResources.class);

  private final OperatorContext ctx;
  private final InformerEventSource<Secret, P> secrets;
  private final InformerEventSource<Role, P> roles;
  private final InformerEventSource<RoleBinding, P> bindings;

  CertificateResources(OperatorContext ctx, InformerEventSource<Secret, P> secrets, InformerEventSource<Role, P> roles,
      InformerEventSource<RoleBinding, P> bindings) {
    this.ctx = ctx;
    this.secrets = secrets;
    this.roles = roles;
    this.bindings = bindings;
  }

  /**
   * Creates what is missing and puts back labels, rules and subjects that differ.
   *
   * @param labels the Role's and RoleBinding's labels (official {@code certResourceLabels})
   * @param secretLabels the Secret's labels (those, plus its type and parent)
   * @param serviceAccount the account the group's pods run as
   */
  void ensure(String domain, Map<String, String> labels, Map<String, String> secretLabels, String serviceAccount)
      throws ProvisionException {
    String ns = ctx.config().namespace();
    ResourceID id = new ResourceID(domain, ns);
    try {
      Optional<Secret> secret = secrets.get(id);
      if (secret.isEmpty()) {
        Secret created = ctx.client().secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata()
            .withName(domain).withNamespace(ns).withLabels(secretLabels).endMetadata().withType("kubernetes.io/tls")
            .addToData("tls.crt", "").addToData("tls.key", "").build()).create();
        secrets.handleRecentResourceCreate(ResourceID.fromResource(created), created);
      } else if (!Objects.equals(secret.get().getMetadata().getLabels(), secretLabels)) {
        ctx.client().secrets().inNamespace(ns).withName(domain).edit(s -> {
          s.getMetadata().setLabels(secretLabels);
          return s;
        });
      }
      Role role = new RoleBuilder().withNewMetadata().withName(domain).withNamespace(ns).withLabels(labels)
          .endMetadata()
          .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withResourceNames(domain)
              .withVerbs("get", "list", "patch", "update").build())
          .build();
      Optional<Role> liveRole = roles.get(id);
      if (liveRole.isEmpty()) {
        roles.handleRecentResourceCreate(id, ctx.client().resource(role).create());
      } else if (!Objects.equals(liveRole.get().getMetadata().getLabels(), role.getMetadata().getLabels())
          || !Objects.equals(liveRole.get().getRules(), role.getRules())) {
        ctx.client().rbac().roles().inNamespace(ns).withName(domain).edit(r -> {
          r.getMetadata().setLabels(role.getMetadata().getLabels());
          r.setRules(role.getRules());
          return r;
        });
      }
      RoleBinding binding = new RoleBindingBuilder().withNewMetadata().withName(domain).withNamespace(ns)
          .withLabels(labels).endMetadata()
          .addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(ns).endSubject()
          .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(domain).endRoleRef()
          .build();
      Optional<RoleBinding> liveBinding = bindings.get(id);
      if (liveBinding.isEmpty()) {
        bindings.handleRecentResourceCreate(id, ctx.client().resource(binding).create());
      } else if (!Objects.equals(liveBinding.get().getMetadata().getLabels(), binding.getMetadata().getLabels())
          || !Objects.equals(liveBinding.get().getSubjects(), binding.getSubjects())) {
        ctx.client().rbac().roleBindings().inNamespace(ns).withName(domain).edit(r -> {
          r.getMetadata().setLabels(binding.getMetadata().getLabels());
          r.setSubjects(binding.getSubjects());
          return r;
        });
      }
    } catch (KubernetesClientException e) {
      boolean retry = e.getCode() == 409 || e.getCode() == 429 || e.getCode() >= 500 || e.getCode() == 0;
      throw new ProvisionException("certificate resources of " + domain + ": " + e.getMessage(),
          "KubernetesApiError", retry, e);
    }
  }

  /** Deletes the three; a failure is logged (the next cleanup of the parent tries again). */
  void delete(String domain) {
    String ns = ctx.config().namespace();
    try {
      ctx.client().rbac().roleBindings().inNamespace(ns).withName(domain).delete();
      ctx.client().rbac().roles().inNamespace(ns).withName(domain).delete();
      ctx.client().secrets().inNamespace(ns).withName(domain).delete();
    } catch (KubernetesClientException e) {
      LOG.warn("could not delete the certificate resources of {}: {}", domain, e.getMessage());
    }
  }
}
