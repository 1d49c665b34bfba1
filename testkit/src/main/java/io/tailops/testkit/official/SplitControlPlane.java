package io.tailops.testkit.official;

import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The control plane the official operator needs to start here (local-tailnet.md §4): one base URL that speaks the
 * Tailscale API v2 and the control protocol. A {@link LoginServerRouter} in front sends {@code /api/v2/} to a
 * {@link FakeTailscaleApi} and the rest to a real {@link HeadscaleServer}; the fake mints real headscale pre-auth keys
 * for keys with the operator's own tags, so that the operator's tsnet node can log in to headscale and come online
 * (the official operator waits for that before it talks to Kubernetes). Every other key (the proxies') is the fake's
 * own, for the proxy simulator to log in with.
 */
public final class SplitControlPlane implements AutoCloseable {
  /** The official operator's default {@code OPERATOR_INITIAL_TAGS}. */
  public static final String OPERATOR_TAG = "tag:k8s-operator";

  private final FakeTailscaleApi api;
  private final HeadscaleServer headscale;
  private final LoginServerRouter router;
  private final OAuthClient operatorClient;

  private SplitControlPlane(FakeTailscaleApi api, HeadscaleServer headscale, LoginServerRouter router,
      OAuthClient operatorClient) {
    this.api = api;
    this.headscale = headscale;
    this.router = router;
    this.operatorClient = operatorClient;
  }

  /** Starts headscale (with {@link HeadscaleServer#OPERATOR_POLICY}), the fake API and the router in front. */
  public static SplitControlPlane start(TailnetBinaries binaries) {
    List<AutoCloseable> started = new ArrayList<>();
    try {
      HeadscaleServer headscale = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY)
          // the operator reads the MagicDNS suffix from its own node (HA parents' names): the fake's tailnet domain
          .baseDomain(FakeTailscaleApi.DEFAULT_TAILNET_DOMAIN)
          .binaries(binaries.requireHeadscale()).start();
      started.add(headscale);
      FakeTailscaleApi api = FakeTailscaleApi.start();
      started.add(api);
      OAuthClient client = api.addOperatorClient();
      api.keySecrets((tags, reusable, ephemeral, expiry) -> Set.copyOf(tags).equals(Set.of(OPERATOR_TAG))
          ? Optional.of(headscale.createPreAuthKey(tags, reusable, ephemeral, expiry).key())
          : Optional.empty());
      LoginServerRouter router = LoginServerRouter.start(api.baseUri(),
          java.net.URI.create(headscale.baseUrl()));
      return new SplitControlPlane(api, headscale, router, client);
    } catch (RuntimeException | Error e) {
      for (int i = started.size() - 1; i >= 0; i--) {
        try {
          started.get(i).close();
        } catch (Exception suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  /** The one URL for {@code OPERATOR_LOGIN_SERVER}. */
  public String loginServer() {
    return router.baseUrl();
  }

  /** The Tailscale API (proxy keys and devices live here). */
  public FakeTailscaleApi api() {
    return api;
  }

  /** headscale (the operator's own node lives here). */
  public HeadscaleServer headscale() {
    return headscale;
  }

  public LoginServerRouter router() {
    return router;
  }

  /** The OAuth client to give the operator (scopes and tags of an operator client, see the fake). */
  public OAuthClient operatorClient() {
    return operatorClient;
  }

  @Override
  public void close() {
    router.close();
    api.close();
    headscale.close();
  }
}
