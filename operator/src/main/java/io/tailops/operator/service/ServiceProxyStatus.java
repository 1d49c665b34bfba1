package io.tailops.operator.service;

import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.tailops.operator.proxy.DeviceState;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The status the operator wants on an exposed Service once its proxy is provisioned (§5.1): the
 * {@code TailscaleProxyReady} condition and, for LoadBalancer Services, {@code status.loadBalancer.ingress} with the
 * device's MagicDNS name and the tailnet IPs of the Service's IP family.
 *
 * <p>Deliberate difference: a Service exposed with the annotation becomes ready when its device is up (as a
 * LoadBalancer does), not as soon as the StatefulSet exists; and the ready message names the tailnet address.
 *
 * @param ingress desired {@code status.loadBalancer.ingress}; null means "leave untouched" (another LoadBalancer)
 */
public record ServiceProxyStatus(boolean ready, String reason, String message, List<LoadBalancerIngress> ingress) {
  public static final String REASON_CREATED = "ProxyCreated";
  public static final String REASON_PENDING = "ProxyPending";
  public static final String REASON_FAILED = "ProxyFailed";
  public static final String PENDING_MESSAGE = "no Tailscale hostname known yet, waiting for proxy pod to finish auth";

  public static ServiceProxyStatus of(Service svc, boolean loadBalancer, DeviceState device) {
    // Not a LoadBalancer at all: nobody else owns status.loadBalancer, so entries left from a time when it was ours
    // (a LoadBalancer switched to the expose annotation) are cleared. Other LoadBalancers' status is left alone.
    List<LoadBalancerIngress> notOurs = "LoadBalancer".equals(svc.getSpec().getType()) ? null : List.of();
    if (!device.isReady()) {
      return new ServiceProxyStatus(false, REASON_PENDING, PENDING_MESSAGE, loadBalancer ? List.of() : notOurs);
    }
    String where = device.fqdn() + (device.ips().isEmpty() ? "" : " (" + String.join(", ", device.ips()) + ")");
    if (!loadBalancer) {
      return new ServiceProxyStatus(true, REASON_CREATED, "proxy is ready; reachable on the tailnet at " + where,
          notOurs);
    }
    List<LoadBalancerIngress> ingress = new ArrayList<>();
    ingress.add(new LoadBalancerIngressBuilder().withHostname(device.fqdn()).build());
    boolean v6;
    try {
      v6 = InetAddress.getByName(svc.getSpec().getClusterIP()).getAddress().length == 16;
    } catch (Exception e) {
      return new ServiceProxyStatus(false, REASON_FAILED, "failed to parse cluster IP: " + e.getMessage(), null);
    }
    for (String ip : device.ips()) {
      if (ip.contains(":") == v6) {
        ingress.add(new LoadBalancerIngressBuilder().withIp(ip).build());
      }
    }
    return new ServiceProxyStatus(true, REASON_CREATED, "proxy is ready; reachable on the tailnet at " + where, ingress);
  }
}
