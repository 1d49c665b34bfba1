package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import java.util.Objects;

/** The headless Service of a proxy (§3.2): no ports, selecting the proxy pod by the parent's UID. */
public final class ProxyHeadlessService {
  private ProxyHeadlessService() {
  }

  public static Service build(ProxySpec spec, String name, ProxyDefaults defaults) {
    return new ServiceBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(defaults.namespace())
        .withLabels(ChildLabels.of(spec.parent()))
        .endMetadata()
        .withNewSpec()
        .withClusterIP("None")
        .withSelector(Map.of("app", spec.parent().uid()))
        .withIpFamilyPolicy("PreferDualStack")
        .endSpec()
        .build();
  }

  /** Whether the live Service already matches what {@link #build} would produce (the fields the operator sets). */
  public static boolean matches(Service live, Service desired) {
    return Objects.equals(live.getSpec().getSelector(), desired.getSpec().getSelector())
        && "None".equals(live.getSpec().getClusterIP())
        && Objects.equals(live.getSpec().getIpFamilyPolicy(), desired.getSpec().getIpFamilyPolicy())
        && live.getMetadata().getLabels() != null
        && live.getMetadata().getLabels().entrySet().containsAll(desired.getMetadata().getLabels().entrySet());
  }
}
