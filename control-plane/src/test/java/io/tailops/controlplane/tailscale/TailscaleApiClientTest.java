package io.tailops.controlplane.tailscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeAuthKey;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.Fault;
import io.tailops.testkit.tailscale.OAuthClient;
import io.tailops.testkit.tailscale.RecordedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class TailscaleApiClientTest extends ClientFixture {
  private static final ObjectMapper JSON = new ObjectMapper();

  private FakeAuthKey proxyKey() {
    return fake.mintKey(List.of("tag:k8s"), false, false, true, Duration.ofHours(1));
  }

  @Nested
  class HappyPaths {
    @Test
    void createsAnAuthKeyWithTheOperatorsBody() throws Exception {
      TailscaleApiClient client = client();
      AuthKey key = client.createAuthKey(AuthKeyRequest.forProxy(List.of(" tag:k8s ", ""), false, null));

      assertThat(key.secret()).startsWith("tskey-auth-" + key.id() + "-");
      assertThat(key.expires()).isNotNull();
      assertThat(key.toString()).doesNotContain(key.secret());
      FakeAuthKey stored = fake.key(key.id()).orElseThrow();
      assertThat(stored.tags()).containsExactly("tag:k8s");
      assertThat(stored.reusable()).isFalse();
      assertThat(stored.preauthorized()).isTrue();

      RecordedRequest req = fake.requests(Endpoint.CREATE_KEY).get(0);
      JsonNode body = JSON.readTree(req.body());
      assertThat(body.has("description")).isFalse();
      assertThat(body.has("expirySeconds")).isFalse();
      assertThat(body.at("/capabilities/devices/create/ephemeral").asBoolean()).isFalse();
      assertThat(req.header("User-Agent")).isEqualTo("tailscale-k8s-operator");
      assertThat(req.header("Content-Type")).isEqualTo("application/json");
      assertThat(req.header("Authorization")).startsWith("Bearer tskey-api-");
    }

    @Test
    void listsKeysByIdAndReadsEachKeysDetails() throws Exception {
      TailscaleApiClient client = client();
      AuthKey minted = client.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "op proxy x opabc")
          .withExpiry(Duration.ofMinutes(30)));
      FakeAuthKey revoked = proxyKey();
      fake.revokeKey(revoked.id());

      // The list names the active keys only, by ID (the wire format the Go clients read).
      List<io.tailops.controlplane.AuthKeyInfo> listed = client.listAuthKeys();
      assertThat(listed).extracting(io.tailops.controlplane.AuthKeyInfo::id).containsExactly(minted.id());
      assertThat(listed.get(0).detailed()).isFalse();

      io.tailops.controlplane.AuthKeyInfo k = client.getAuthKey(minted.id()).orElseThrow();
      assertThat(k.detailed()).isTrue();
      assertThat(k.description()).isEqualTo("op proxy x opabc");
      assertThat(Duration.between(k.created(), k.expires())).isEqualTo(Duration.ofMinutes(30));
      assertThat(k.invalid()).isFalse();
      assertThat(k.used()).isNull(); // the Tailscale API does not say
      assertThat(k.reusable()).isFalse();
      assertThat(k.tags()).containsExactly("tag:k8s");
      assertThat(k.userId()).isEmpty(); // minted by an OAuth client
      assertThat(client.getAuthKey(revoked.id()).orElseThrow().invalid()).isTrue();
      assertThat(client.getAuthKey("kNope")).isEmpty();
      assertThat(fake.calls(Endpoint.GET_KEY)).isEqualTo(3);
    }

    @Test
    void sendsDescriptionAndExpiryWhenGiven() throws Exception {
      client().createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), true, "svc default web")
          .withExpiry(Duration.ofMinutes(10)));
      JsonNode body = JSON.readTree(fake.requests(Endpoint.CREATE_KEY).get(0).body());
      assertThat(body.get("description").asText()).isEqualTo("svc default web");
      assertThat(body.get("expirySeconds").asLong()).isEqualTo(600);
      FakeAuthKey stored = fake.keys().get(0);
      assertThat(stored.ephemeral()).isTrue();
      assertThat(Duration.between(stored.created(), stored.expires())).isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void getsListsAndDeletesDevices() throws Exception {
      TailscaleApiClient client = client();
      FakeDevice registered = fake.registerDevice(proxyKey().secret(), "ts-web-0");
      fake.addForeignDevice("laptop", List.of());

      Device d = client.getDevice(registered.nodeId()).orElseThrow();
      assertThat(d.nodeId()).isEqualTo(registered.nodeId());
      assertThat(d.legacyId()).isEqualTo(registered.id());
      assertThat(d.name()).isEqualTo("ts-web-0.tailnet-abc.ts.net");
      assertThat(d.dnsLabel()).isEqualTo("ts-web-0");
      assertThat(d.hostname()).isEqualTo("ts-web-0");
      assertThat(d.addresses()).containsExactlyElementsOf(registered.addresses());
      assertThat(d.tags()).containsExactly("tag:k8s");
      assertThat(d.online()).isTrue();
      assertThat(d.created()).isEqualTo(registered.created());
      assertThat(d.lastSeen()).isNotNull();
      assertThat(fake.requests(Endpoint.GET_DEVICE).get(0).query()).isEqualTo("fields=all");

      assertThat(client.getDevice(registered.id())).isPresent();
      assertThat(client.listDevices()).extracting(Device::hostname).containsExactly("ts-web-0", "laptop");
      assertThat(client.deleteDevice(registered.nodeId())).isTrue();
      assertThat(fake.device(registered.nodeId())).isEmpty();
    }

    @Test
    void reportsOfflineDevices() throws Exception {
      FakeDevice registered = fake.registerDevice(proxyKey().secret(), "web");
      fake.setOnline(registered.nodeId(), false);
      assertThat(client().getDevice(registered.nodeId()).orElseThrow().online()).isFalse();
    }

    @Test
    void notFoundIsNotAnError() throws Exception {
      TailscaleApiClient client = client();
      assertThat(client.getDevice("nGoneCNTRL")).isEqualTo(Optional.empty());
      assertThat(client.deleteDevice("nGoneCNTRL")).isFalse();
      client.deleteAuthKey("kGoneCNTRL");
      assertThat(fake.calls(Endpoint.DELETE_KEY)).isEqualTo(1);
    }

    @Test
    void deletesAuthKeys() throws Exception {
      TailscaleApiClient client = client();
      AuthKey key = client.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null));
      client.deleteAuthKey(key.id());
      assertThat(fake.key(key.id()).orElseThrow().revoked()).isTrue();
    }

    @Test
    void readsThePolicyAsJson() throws Exception {
      fake.addNodeAttr(List.of("tag:k8s"), List.of("funnel"));
      TailnetPolicy p = client().readPolicy();
      assertThat(p.tagOwnedBy("tag:k8s", "tag:k8s-operator")).isTrue();
      assertThat(p.grantsAttr(List.of("tag:k8s"), "funnel")).isTrue();
      assertThat(fake.requests(Endpoint.GET_POLICY).get(0).header("Accept")).isEqualTo("application/json");
    }

    @Test
    void readsThePolicyWhenTheServerAnswersHuJson() throws Exception {
      fake.setPolicyHuJson("""
          {
            // who may apply which tag
            "tagOwners": {
              "tag:k8s-operator": [],
              "tag:k8s": ["tag:k8s-operator",], /* trailing comma above */
            },
            "nodeAttrs": [{"target": ["*"], "attr": ["funnel"],},],
          }
          """);
      fake.policyIgnoresAccept(true);
      TailnetPolicy p = client().readPolicy();
      assertThat(p.tagOwners()).containsEntry("tag:k8s", List.of("tag:k8s-operator"));
      assertThat(p.grantsAttr(List.of(), "funnel")).isTrue();
    }

    @Test
    void checkCredentialsMakesOneCheapAuthenticatedCall() throws Exception {
      client().checkCredentials();
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(1);
      assertThat(fake.calls(Endpoint.LIST_KEYS)).isEqualTo(1);
      assertThat(fake.totalCalls()).isEqualTo(2);
    }

    @Test
    void reportsEveryRequestToTheListener() throws Exception {
      TailscaleApiClient client = client();
      client.getDevice("nNope");
      fake.inject(Fault.status(503)).on(Endpoint.LIST_DEVICES).times(1);
      client.listDevices();
      assertThat(events).containsExactly(
          "POST /api/v2/oauth/token 200",
          "GET /api/v2/device/{id} 404",
          "GET /api/v2/tailnet/-/devices 503",
          "GET /api/v2/tailnet/-/devices 200");
    }

    @Test
    void loginServerSetsBothBaseUrls() {
      TailscaleApiClient c = TailscaleApiClient.create(CredentialSource.of("id", "secret"), "https://ts.example.com/");
      assertThat(c.apiBaseUrl()).isEqualTo("https://ts.example.com");
      assertThat(c.tokenBaseUrl()).isEqualTo("https://ts.example.com");
      TailscaleApiClient d = TailscaleApiClient.create(CredentialSource.of("id", "secret"), null);
      assertThat(d.apiBaseUrl()).isEqualTo("https://api.tailscale.com");
      assertThat(d.tokenBaseUrl()).isEqualTo("https://controlplane.tailscale.com");
      assertThat(d.capabilities()).isEqualTo(ControlPlane.Capabilities.tailscale());
      assertThatThrownBy(() -> TailscaleApiClient.create(CredentialSource.of("id", "secret"), "ftp://x"))
          .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void escapesPathSegments() {
      assertThat(TailscaleApiClient.segment("nAbC123CNTRL")).isEqualTo("nAbC123CNTRL");
      assertThat(TailscaleApiClient.segment("svc:web")).isEqualTo("svc:web");
      assertThat(TailscaleApiClient.segment("a/b c")).isEqualTo("a%2Fb%20c");
    }

    @Test
    void blankIdsAreRejectedLocally() {
      TailscaleApiClient client = client();
      assertThatThrownBy(() -> client.getDevice(" ")).isInstanceOfSatisfying(ControlPlaneException.class,
          e -> assertThat(e.kind()).isEqualTo(Kind.BAD_REQUEST));
      assertThat(fake.totalCalls()).isZero();
    }
  }

  @Nested
  class ErrorClasses {
    @Test
    void badSecretIsUnauthorizedAfterBothCredentialStyles() {
      write(secretFile, "tskey-client-" + oauth.id() + "-wrong");
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().listDevices());
      assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
      assertThat(e.status()).isEqualTo(401);
      assertThat(e.serverMessage()).isEqualTo("API token invalid");
      assertThat(e.getMessage()).contains("/api/v2/oauth/token").contains("HTTP 401");
      assertThat(e.userMessage()).contains("client_id/client_secret");
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(2);
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isZero();
    }

    @Test
    void missingScopeOnDeleteIsForbidden() {
      OAuthClient keysOnly = fake.addOAuthClient(List.of("auth_keys"), List.of("tag:k8s-operator"));
      writeCredentials(keysOnly);
      FakeDevice d = fake.addForeignDevice("x", List.of());
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
          () -> client().deleteDevice(d.nodeId()));
      assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN);
      assertThat(e.status()).isEqualTo(403);
      assertThat(e.serverMessage()).isEqualTo(FakeTailscaleApi.MSG_FORBIDDEN);
      assertThat(e.getMessage()).contains("DELETE /api/v2/device/" + d.nodeId());
      assertThat(e.requiredScope()).contains("devices:core");
      assertThat(e.userMessage()).endsWith("the OAuth client lacks the devices:core scope: give it the scope "
          + "devices:core (README, OAuth scopes)");
      assertThat(e.isTransient()).isFalse();
      assertThat(fake.calls(Endpoint.DELETE_DEVICE)).isEqualTo(1);
    }

    @Test
    void unownedTagIsTagNotPermitted() {
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
          () -> client().createAuthKey(AuthKeyRequest.forProxy(List.of("tag:prod"), false, null)));
      assertThat(e.kind()).isEqualTo(Kind.TAG_NOT_PERMITTED);
      assertThat(e.status()).isEqualTo(400);
      assertThat(e.serverMessage()).isEqualTo("requested tags [tag:prod] are invalid or not permitted");
      assertThat(fake.calls(Endpoint.CREATE_KEY)).isEqualTo(1);
    }

    @Test
    void otherBadRequestsAreBadRequest() {
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
          () -> client().createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "no/slashes")));
      assertThat(e.kind()).isEqualTo(Kind.BAD_REQUEST);
      assertThat(e.status()).isEqualTo(400);
    }

    @Test
    void notFoundOnPolicyIsNotFound() {
      fake.inject(Fault.status(404)).on(Endpoint.GET_POLICY).always();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().readPolicy());
      assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
      assertThat(fake.calls(Endpoint.GET_POLICY)).isEqualTo(1);
    }

    @Test
    void rateLimitHonoursRetryAfterSeconds() throws Exception {
      fake.inject(Fault.status(429).retryAfter("2")).on(Endpoint.GET_DEVICE).times(1);
      assertThat(client().getDevice("nNope")).isEmpty();
      assertThat(fake.calls(Endpoint.GET_DEVICE)).isEqualTo(2);
      assertThat(sleeps).containsExactly(Duration.ofSeconds(2));
    }

    @Test
    void rateLimitHonoursRetryAfterHttpDate() throws Exception {
      String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.instant().plusSeconds(5).atOffset(
          ZoneOffset.UTC));
      fake.inject(Fault.status(429).retryAfter(date)).on(Endpoint.LIST_DEVICES).times(1);
      client().listDevices();
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(2);
      assertThat(sleeps).hasSize(1);
      assertThat(sleeps.get(0)).isBetween(Duration.ofSeconds(3), Duration.ofSeconds(5));
    }

    @Test
    void aLongRetryAfterEndsTheCallWithTheHintInsteadOfHoldingTheThread() {
      fake.inject(Fault.status(429).retryAfter("3600")).on(Endpoint.LIST_DEVICES).times(1);
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().listDevices());
      assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
      assertThat(e.retryAfter()).contains(Duration.ofHours(1));
      assertThat(e.getMessage()).contains("asked to wait 3600 s");
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(1);
      assertThat(sleeps).isEmpty();
    }

    @Test
    void retryAfterHoldsBackEveryLaterCallOfTheClientUntilItPasses() throws Exception {
      TailscaleApiClient c = client();
      fake.inject(Fault.status(429).retryAfter("30")).on(Endpoint.CREATE_KEY).times(1);
      ControlPlaneException first = catchThrowableOfType(ControlPlaneException.class,
          () -> c.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "k8s proxy a")));
      assertThat(first.retryAfter()).contains(Duration.ofSeconds(30));
      int mints = fake.calls(Endpoint.CREATE_KEY);
      int lists = fake.calls(Endpoint.LIST_DEVICES);

      clock.advance(Duration.ofSeconds(20));
      // Another proxy's mint and an unrelated call: neither is sent while the hint holds; each says how long is left.
      ControlPlaneException held = catchThrowableOfType(ControlPlaneException.class,
          () -> c.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "k8s proxy b")));
      assertThat(held.kind()).isEqualTo(Kind.RATE_LIMITED);
      assertThat(held.isTransient()).isTrue();
      assertThat(held.retryAfter().orElseThrow()).isBetween(Duration.ofSeconds(9), Duration.ofSeconds(10));
      assertThat(held.getMessage()).contains("not sent").contains("10 s more");
      assertThat(catchThrowableOfType(ControlPlaneException.class, c::listDevices).kind())
          .isEqualTo(Kind.RATE_LIMITED);
      assertThat(fake.calls(Endpoint.CREATE_KEY)).isEqualTo(mints);
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(lists);

      clock.advance(Duration.ofSeconds(10));
      assertThat(c.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "k8s proxy b")).secret())
          .isNotEmpty();
      assertThat(fake.calls(Endpoint.CREATE_KEY)).isEqualTo(mints + 1);
    }

    @Test
    void rateLimitUntilRetriesRunOutIsRateLimited() {
      fake.inject(Fault.status(429)).on(Endpoint.LIST_DEVICES).always();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().listDevices());
      assertThat(e.kind()).isEqualTo(Kind.RATE_LIMITED);
      assertThat(e.isTransient()).isTrue();
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(4);
      assertThat(sleeps).hasSize(3);
    }

    @Test
    void serverErrorsAreRetriedThenSucceed() throws Exception {
      fake.inject(Fault.status(500)).on(Endpoint.LIST_DEVICES).times(2);
      assertThat(client().listDevices()).isEmpty();
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(3);
      assertThat(sleeps).hasSize(2);
      assertThat(sleeps.get(0)).isBetween(Duration.ZERO, Duration.ofMillis(100));
      assertThat(sleeps.get(1)).isBetween(Duration.ZERO, Duration.ofMillis(200));
    }

    @Test
    void serverErrorsUntilRetriesRunOutAreServerError() {
      fake.inject(Fault.status(500)).on(Endpoint.GET_DEVICE).always();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().getDevice("n1"));
      assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
      assertThat(e.status()).isEqualTo(500);
      assertThat(e.getMessage()).contains("gave up after 4 attempts");
      assertThat(fake.calls(Endpoint.GET_DEVICE)).isEqualTo(4);
    }

    @Test
    void notImplementedIsNotRetried() {
      fake.inject(Fault.status(501, "cannot delete devices outside of your tailnet")).on(Endpoint.DELETE_DEVICE)
          .always();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().deleteDevice("n1"));
      assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
      assertThat(fake.calls(Endpoint.DELETE_DEVICE)).isEqualTo(1);
    }

    @Test
    void slowResponsesTimeOutAsTransport() {
      fake.inject(Fault.delay(Duration.ofSeconds(3))).on(Endpoint.GET_DEVICE).always();
      TailscaleApiClient client = client(b -> b.requestTimeout(Duration.ofMillis(250))
          .retryPolicy(fastRetries().withMaxAttempts(2)));
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client.getDevice("n1"));
      assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(e.status()).isZero();
      assertThat(e.getMessage()).contains("HttpTimeoutException").contains("gave up after 2 attempts");
      // The client made two attempts; on a loaded machine the second can time out before the server has taken it in,
      // so the server sees one or two, never more.
      assertThat(fake.calls(Endpoint.GET_DEVICE)).isBetween(1, 2);
      assertThat(events).contains("GET /api/v2/device/{id} -1");
    }

    @Test
    void createKeyIsNotRetriedAfterATimeout() {
      fake.inject(Fault.hang()).on(Endpoint.CREATE_KEY).times(1);
      TailscaleApiClient client = client(b -> b.requestTimeout(Duration.ofMillis(300)));
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
          () -> client.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null)));
      assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(e.getMessage()).contains("not retried");
      // one attempt; under load it can time out before the server has taken it in
      assertThat(fake.calls(Endpoint.CREATE_KEY)).isLessThanOrEqualTo(1);
      assertThat(fake.keys()).isEmpty();
      assertThat(sleeps).isEmpty();
    }

    @Test
    void createKeyIsRetriedWhenTheServerAnsweredWithAServerError() throws Exception {
      fake.inject(Fault.status(503)).on(Endpoint.CREATE_KEY).times(1);
      client().createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null));
      assertThat(fake.calls(Endpoint.CREATE_KEY)).isEqualTo(2);
      assertThat(fake.keys()).hasSize(1);
    }

    @Test
    void createKeyIsRetriedWhenTheConnectionIsRefused() throws Exception {
      int closedPort = freePort();
      // Tokens from the fake, API calls to a port nobody listens on: the request certainly never left.
      TailscaleApiClient client = client(b -> b.apiBaseUrl("http://127.0.0.1:" + closedPort)
          .tokenBaseUrl(fake.baseUrl()));
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
          () -> client.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null)));
      assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(e.getMessage()).contains("ConnectException").contains("gave up after 4 attempts");
      assertThat(events).filteredOn(s -> s.startsWith("POST /api/v2/tailnet/-/keys")).containsOnly(
          "POST /api/v2/tailnet/-/keys -1").hasSize(4);
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(1);
    }

    @Test
    void unreachableServerIsTransport() throws Exception {
      int port = freePort();
      TailscaleApiClient client = TailscaleApiClient.builder(CredentialSource.fromFiles(idFile, secretFile))
          .loginServer("http://127.0.0.1:" + port).retryPolicy(fastRetries().withMaxAttempts(2)).build();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::checkCredentials);
      assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(e.getMessage()).contains("oauth/token").contains("ConnectException");
    }

    @Test
    void nonJsonErrorBodiesKeepTheStatusAndNon200SuccessIsAnError() throws Exception {
      HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext("/", ex -> {
        byte[] body;
        int status;
        String path = ex.getRequestURI().getPath();
        if (path.equals("/api/v2/oauth/token")) {
          status = 200;
          body = "{\"access_token\":\"tskey-api-kX-abc\",\"expires_in\":3600}".getBytes(StandardCharsets.UTF_8);
        } else if (path.startsWith("/api/v2/device/")) {
          status = 201;
          body = "{}".getBytes(StandardCharsets.UTF_8);
        } else {
          status = 502;
          body = "<html>Bad Gateway</html>".getBytes(StandardCharsets.UTF_8);
          ex.getResponseHeaders().set("Content-Type", "text/html");
        }
        ex.sendResponseHeaders(status, body.length);
        ex.getResponseBody().write(body);
        ex.close();
      });
      server.start();
      try {
        TailscaleApiClient client = TailscaleApiClient.builder(CredentialSource.of("id", "tskey-client-x-y"))
            .loginServer("http://127.0.0.1:" + server.getAddress().getPort())
            .retryPolicy(fastRetries().withMaxAttempts(2)).build();
        ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::listDevices);
        assertThat(e.kind()).isEqualTo(Kind.SERVER_ERROR);
        assertThat(e.status()).isEqualTo(502);
        assertThat(e.serverMessage()).isNull();
        assertThat(e.getMessage()).contains("not a Tailscale JSON error").doesNotContain("html");

        ControlPlaneException created = catchThrowableOfType(ControlPlaneException.class,
            () -> client.getDevice("n1"));
        assertThat(created.kind()).isEqualTo(Kind.OTHER);
        assertThat(created.status()).isEqualTo(201);
      } finally {
        server.stop(0);
      }
    }
  }

  @Nested
  class Tokens {
    @Test
    void fallsBackToBodyCredentialsAndRemembersTheStyle() throws Exception {
      fake.rejectBasicClientAuth(true);
      TailscaleApiClient client = client();
      client.listDevices();
      List<RecordedRequest> tokenRequests = fake.requests(Endpoint.TOKEN);
      assertThat(tokenRequests).hasSize(2);
      assertThat(tokenRequests.get(0).header("Authorization")).startsWith("Basic ");
      assertThat(tokenRequests.get(0).body()).isEqualTo("grant_type=client_credentials");
      assertThat(tokenRequests.get(1).header("Authorization")).isNull();
      assertThat(tokenRequests.get(1).body()).contains("client_id=" + oauth.id()).contains("client_secret=");
      assertThat(tokenRequests.get(1).header("Content-Type")).isEqualTo("application/x-www-form-urlencoded");

      fake.revokeAllTokens(); // forces a new token via 401
      client.listDevices();
      assertThat(fake.requests(Endpoint.TOKEN)).hasSize(3);
      assertThat(fake.requests(Endpoint.TOKEN).get(2).header("Authorization")).isNull();
    }

    @Test
    void basicCredentialsAreUrlEncoded() throws Exception {
      client().listDevices();
      RecordedRequest r = fake.requests(Endpoint.TOKEN).get(0);
      String decoded = new String(Base64.getDecoder().decode(r.header("Authorization").substring(6)),
          StandardCharsets.UTF_8);
      assertThat(decoded).isEqualTo(oauth.id() + ":" + oauth.secret());
      assertThat(fake.requests(Endpoint.TOKEN)).hasSize(1);
    }

    @Test
    void cachesTheToken() throws Exception {
      TailscaleApiClient client = client();
      for (int i = 0; i < 5; i++) {
        client.listDevices();
      }
      client.readPolicy();
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(1);
      assertThat(client.tokensObtained()).isEqualTo(1);
    }

    @Test
    void refreshesShortlyBeforeExpiry() throws Exception {
      TailscaleApiClient client = client();
      client.listDevices();
      clock.advance(Duration.ofSeconds(3500)); // 100 s left: keep
      client.listDevices();
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(1);
      clock.advance(Duration.ofSeconds(50)); // 50 s left: refresh
      client.listDevices();
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(2);
    }

    @Test
    void aTokenRejectedWith401IsReplacedOnce() throws Exception {
      TailscaleApiClient client = client();
      client.listDevices();
      fake.advanceTime(Duration.ofHours(2)); // the server considers the token expired, the client does not
      client.listDevices();
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(2);
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(3);
    }

    @Test
    void aPersistent401IsUnauthorizedAfterOneRefresh() {
      fake.inject(Fault.status(401)).on(Endpoint.LIST_DEVICES).always();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().listDevices());
      assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(2);
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(2);
    }

    @Test
    void checkCredentialsFailsForBadCredentials() {
      fake.removeOAuthClient(oauth.id());
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().checkCredentials());
      assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
    }
  }

  @Nested
  class CredentialReload {
    @Test
    void rotatedFilesArePickedUpWithoutRestart() throws Exception {
      TailscaleApiClient client = client();
      client.listDevices();
      String before = client.credentialStatus();
      assertThat(before).contains(oauth.id().substring(0, 4)).contains(idFile.toString())
          .doesNotContain(oauth.secret());

      OAuthClient rotated = fake.addOAuthClient(List.of("auth_keys", "devices:core"), List.of("tag:k8s-operator"));
      writeCredentials(rotated);
      fake.removeOAuthClient(oauth.id()); // the old credentials and their tokens stop working
      client.listDevices();

      assertThat(fake.calls(Endpoint.TOKEN)).isEqualTo(2);
      String decoded = new String(Base64.getDecoder().decode(
          fake.requests(Endpoint.TOKEN).get(1).header("Authorization").substring(6)), StandardCharsets.UTF_8);
      assertThat(decoded).startsWith(rotated.id() + ":");
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(2); // no 401 round trip: the token was dropped first
      assertThat(client.credentialStatus()).contains(rotated.id().substring(0, 4)).contains("changed 1 time");
    }

    @Test
    void aTrailingNewlineIsStripped() throws Exception {
      write(idFile, oauth.id() + "\n");
      write(secretFile, oauth.secret() + "\n");
      client().listDevices();
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(1);
    }

    @Test
    void placeholderEmptyAndMissingFilesAreCredentialsUnavailable() throws Exception {
      TailscaleApiClient client = client();
      write(secretFile, "REPLACE_ME");
      assertUnavailable(client, "placeholder REPLACE_ME", secretFile.toString());
      write(secretFile, "");
      assertUnavailable(client, "is empty", secretFile.toString());
      write(secretFile, "\n");
      assertUnavailable(client, "is empty", secretFile.toString());
      Files.delete(idFile);
      assertUnavailable(client, "does not exist", idFile.toString());
      assertThat(fake.totalCalls()).isZero();
      assertThat(client.credentialStatus()).startsWith("OAuth credentials unavailable: ")
          .contains(idFile.toString());

      writeCredentials(oauth); // fixed: works again without a new client
      client.listDevices();
      assertThat(fake.calls(Endpoint.LIST_DEVICES)).isEqualTo(1);
    }

    private void assertUnavailable(TailscaleApiClient client, String... fragments) {
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, client::listDevices);
      assertThat(e.kind()).isEqualTo(Kind.CREDENTIALS_UNAVAILABLE);
      assertThat(e.getMessage()).contains(fragments).doesNotContain("\n");
      assertThat(e.userMessage()).isEqualTo(e.getMessage());
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void retryPolicyBackoffUsesFullJitterWithinTheCap() {
    RetryPolicy p = RetryPolicy.defaults().withBaseDelay(Duration.ofMillis(100)).withMaxDelay(Duration.ofSeconds(1))
        .withRandom(() -> 0.999_999);
    assertThat(p.backoff(1)).isEqualTo(Duration.ofMillis(99));
    assertThat(p.backoff(2)).isEqualTo(Duration.ofMillis(199));
    assertThat(p.backoff(5)).isEqualTo(Duration.ofMillis(999));
    assertThat(p.backoff(60)).isEqualTo(Duration.ofMillis(999));
    assertThat(p.withRandom(() -> 0.0).backoff(3)).isZero();
  }
}
