package io.tailops.api.v1alpha1;

import io.fabric8.kubernetes.client.CustomResource;
import java.util.List;

/** The API group {@code tailscale.com/v1alpha1} and the kinds it has. */
public final class TailscaleResources {
  public static final String GROUP = ProxyClass.GROUP;
  public static final String VERSION = ProxyClass.VERSION;
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /** Every kind of the group, as the official operator v1.94.2 defines them; the build writes a CRD for each. */
  public static final List<Class<? extends CustomResource<?, ?>>> KINDS = List.of(ProxyClass.class, Connector.class,
      ProxyGroup.class, Recorder.class, DNSConfig.class);

  private TailscaleResources() {
  }
}
