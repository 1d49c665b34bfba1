package io.tailops.api.v1alpha1;

/** The condition types of the official operator, for the {@code status.conditions} of each kind. */
public final class ConditionTypes {
  /** On a {@link ProxyClass}: the class is valid and can be used. */
  public static final String PROXY_CLASS_READY = "ProxyClassReady";
  /** On a {@link Connector}: its subnet router, exit node or app connector is deployed. */
  public static final String CONNECTOR_READY = "ConnectorReady";
  /** On a {@link ProxyGroup}: all its proxies are running. */
  public static final String PROXY_GROUP_READY = "ProxyGroupReady";
  /** On a {@link ProxyGroup}: at least one of its proxies is running. */
  public static final String PROXY_GROUP_AVAILABLE = "ProxyGroupAvailable";
  /** On a {@link ProxyGroup} of type kube-apiserver: {@code spec.kubeAPIServer} is valid. */
  public static final String KUBE_API_SERVER_PROXY_VALID = "KubeAPIServerProxyValid";
  /** On a {@link ProxyGroup} of type kube-apiserver: at least one proxy advertises the API server proxy's name. */
  public static final String KUBE_API_SERVER_PROXY_CONFIGURED = "KubeAPIServerProxyConfigured";
  /** On a {@link Recorder}: its tsrecorder is deployed. */
  public static final String RECORDER_READY = "RecorderReady";
  /** On a {@link DNSConfig}: the ts.net nameserver is deployed. */
  public static final String NAMESERVER_READY = "NameserverReady";
  /** On a Service or Ingress: its proxy is ready. */
  public static final String PROXY_READY = "TailscaleProxyReady";

  private ConditionTypes() {
  }
}
