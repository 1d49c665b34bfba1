package io.tailops.operator.service;

import io.fabric8.kubernetes.api.model.Service;

/**
 * How an egress Service sends its traffic to its proxy (svc.go): the user's Service becomes
 * {@code type: ExternalName} with {@code externalName: <proxy headless Service>.<operator namespace>.svc.<cluster
 * domain>} and no selector, so that cluster DNS answers its name with the proxy pod's address. Everything else of the
 * Service (ports, labels, annotations) stays the user's.
 */
public final class EgressRewrite {
  private EgressRewrite() {
  }

  /** The name the Service must point at. */
  public static String externalName(String headlessService, String operatorNamespace, String clusterDomain) {
    return headlessService + "." + operatorNamespace + ".svc." + clusterDomain;
  }

  /** Whether {@code svc} already points at {@code externalName} (upstream rewrites it only when it does not). */
  public static boolean pointsAt(Service svc, String externalName) {
    return "ExternalName".equals(svc.getSpec().getType()) && externalName.equals(svc.getSpec().getExternalName());
  }

  /** A copy of {@code svc} pointing at {@code externalName}: type ExternalName, that name, no selector. */
  public static Service pointedAt(Service svc, String externalName) {
    Service copy = new io.fabric8.kubernetes.api.model.ServiceBuilder(svc).build();
    copy.getSpec().setType("ExternalName");
    copy.getSpec().setExternalName(externalName);
    copy.getSpec().setSelector(null);
    return copy;
  }
}
