package io.tailops.operator.k8s;

/** Annotation, label and finalizer names shared with the official operator (plus this operator's own, marked). */
public final class TailscaleKeys {
  private TailscaleKeys() {
  }

  // Annotations users put on Services and Ingresses.
  public static final String EXPOSE = "tailscale.com/expose";
  public static final String HOSTNAME = "tailscale.com/hostname";
  public static final String TAGS = "tailscale.com/tags";
  public static final String PROXY_CLASS = "tailscale.com/proxy-class";
  public static final String PROXY_GROUP = "tailscale.com/proxy-group";
  public static final String FUNNEL = "tailscale.com/funnel";
  public static final String HTTP_REDIRECT = "tailscale.com/http-redirect";
  public static final String TAILNET_IP = "tailscale.com/tailnet-ip";
  public static final String TAILNET_IP_DEPRECATED = "tailscale.com/ts-tailnet-target-ip";
  public static final String TAILNET_FQDN = "tailscale.com/tailnet-fqdn";
  public static final String FORWARD_CLUSTER_TRAFFIC =
      "tailscale.com/experimental-forward-cluster-traffic-via-ingress";
  /** This operator: register the proxy as an ephemeral device. */
  public static final String EPHEMERAL = "tailscale.com/ephemeral";
  /** This operator: serve a tailnet Ingress over plain HTTP on port 80 (for control planes without certificates). */
  public static final String INGRESS_HTTP = "tailscale.com/http";
  /** This operator: set to any new value to force the proxy to log in again with a fresh auth key. */
  public static final String FORCE_REAUTH = "tailscale.com/force-reauth";

  // Labels on every object created for a parent.
  public static final String LABEL_MANAGED = "tailscale.com/managed";
  public static final String LABEL_PARENT_NAME = "tailscale.com/parent-resource";
  public static final String LABEL_PARENT_NAMESPACE = "tailscale.com/parent-resource-ns";
  public static final String LABEL_PARENT_TYPE = "tailscale.com/parent-resource-type";

  // Pod template annotations that force a proxy restart when the target changes.
  public static final String LAST_SET_CLUSTER_IP = "tailscale.com/operator-last-set-cluster-ip";
  public static final String LAST_SET_CLUSTER_DNS_NAME = "tailscale.com/operator-last-set-cluster-dns-name";
  public static final String LAST_SET_TAILNET_TARGET_IP = "tailscale.com/operator-last-set-ts-tailnet-target-ip";
  public static final String LAST_SET_TAILNET_TARGET_FQDN = "tailscale.com/operator-last-set-ts-tailnet-target-fqdn";

  /** This operator: hash of the desired proxy StatefulSet, so that unchanged proxies are never rewritten. */
  public static final String SPEC_HASH = "tailscale.com/operator-spec-hash";
  /** This operator: on the state Secret, counts re-authentications done by self-healing. */
  public static final String REAUTH_COUNT = "tailscale.com/reauth-count";
  /** This operator: on the state Secret, when the last self-healing re-authentication happened (RFC 3339). */
  public static final String REAUTH_AT = "tailscale.com/reauth-at";
  /**
   * This operator: on the state Secret, the device ID the proxy reports but the control plane no longer has (set by
   * the device sweep, e.g. after the node was deleted in headscale while the proxy kept running); the proxy's reconcile
   * confirms it and re-registers the proxy.
   */
  public static final String DEVICE_MISSING = "tailscale.com/device-missing";

  public static final String FINALIZER = "tailscale.com/finalizer";

  /** The IngressClass controller string the operator claims. */
  public static final String INGRESS_CONTROLLER = "tailscale.com/ts-ingress";
  public static final String DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";

  /** Condition types. */
  public static final String CONDITION_PROXY_READY = "TailscaleProxyReady";
  public static final String CONDITION_PROXY_CLASS_READY = "ProxyClassReady";

  /** The load balancer class the operator implements. */
  public static final String LOAD_BALANCER_CLASS = "tailscale";
}
