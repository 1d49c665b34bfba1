package io.tailops.controlplane.headscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.PreAuthKey;
import io.tailops.testkit.headscale.TailnetClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** {@link HeadscaleControlPlane} against a real headscale v0.29.2 ({@link HeadscaleServer} from the test kit). */
class HeadscaleControlPlaneTest {
  private static HeadscaleServer headscale;

  @TempDir
  Path dir;

  private Path keyFile;
  private final List<String> events = Collections.synchronizedList(new ArrayList<>());
  private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private Logger logger;
  private Level previousLevel;

  @BeforeAll
  static void startHeadscale() {
    headscale = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY).start();
  }

  @AfterAll
  static void stopHeadscale() {
    if (headscale != null) {
      headscale.close();
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    keyFile = dir.resolve("api-key");
    Files.writeString(keyFile, headscale.apiKey() + "\n"); // one trailing newline is tolerated
    logger = (Logger) LoggerFactory.getLogger("io.tailops");
    previousLevel = logger.getLevel();
    logger.setLevel(Level.TRACE);
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void tearDown() {
    logger.detachAppender(logs);
    logger.setLevel(previousLevel);
  }

  private HeadscaleControlPlane client() {
    return client(b -> b);
  }

  private HeadscaleControlPlane client(UnaryOperator<HeadscaleControlPlane.Builder> customise) {
    return client(headscale.baseUrl(), customise);
  }

  private HeadscaleControlPlane client(String baseUrl, UnaryOperator<HeadscaleControlPlane.Builder> customise) {
    HeadscaleControlPlane.Builder b = HeadscaleControlPlane.builder(baseUrl, ApiKeySource.fromFile(keyFile))
        .baseDomain(headscale.baseDomain())
        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(3).withBaseDelay(Duration.ofMillis(50))
            .withSleeper(sleeps::add))
        .requestTimeout(Duration.ofSeconds(10))
        .listener((method, endpoint, status, duration) -> events.add(method + " " + endpoint + " " + status));
    return customise.apply(b).build();
  }

  @Test
  void mintsTaggedKeysWithAnExplicitExpiration() throws Exception {
    HeadscaleControlPlane cp = client();
    Instant before = Instant.now();
    AuthKey key = cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "ignored by headscale"));
    assertThat(key.id()).matches("[0-9]+");
    assertThat(key.secret()).startsWith("hskey-auth-");
    assertThat(key.toString()).doesNotContain(key.secret());
    // no expiry asked for: 90 days, sent explicitly (a key without one is born expired)
    assertThat(key.expires()).isBetween(before.plus(Duration.ofDays(90)).minusSeconds(5),
        Instant.now().plus(Duration.ofDays(90)).plusSeconds(5));
    PreAuthKey stored = headscale.preAuthKeys().stream().filter(k -> k.id().equals(key.id())).findFirst()
        .orElseThrow();
    assertThat(stored.tags()).containsExactly("tag:k8s");
    assertThat(stored.reusable()).isFalse();
    assertThat(stored.ephemeral()).isFalse();
    assertThat(stored.expiration()).isEqualTo(key.expires());

    AuthKey shortLived = cp.createAuthKey(new AuthKeyRequest(List.of(" tag:k8s ", "tag:e2e-client"), true, true,
        true, null, Duration.ofHours(1)));
    assertThat(shortLived.expires()).isBetween(Instant.now().plus(Duration.ofMinutes(59)),
        Instant.now().plus(Duration.ofMinutes(61)));
    PreAuthKey storedShort = headscale.preAuthKeys().stream().filter(k -> k.id().equals(shortLived.id()))
        .findFirst().orElseThrow();
    assertThat(storedShort.tags()).containsExactly("tag:e2e-client", "tag:k8s");
    assertThat(storedShort.reusable()).isTrue();
    assertThat(storedShort.ephemeral()).isTrue();
    assertThat(events).contains("POST /api/v1/preauthkey 200");
  }

  @Test
  void badTagsAndMissingTagsAreTypedErrors() {
    HeadscaleControlPlane cp = client();
    ControlPlaneException badTag = catchThrowableOfType(ControlPlaneException.class,
        () -> cp.createAuthKey(AuthKeyRequest.forProxy(List.of("Tag:Upper"), false, null)));
    assertThat(badTag.kind()).isEqualTo(Kind.TAG_NOT_PERMITTED);
    assertThat(badTag.status()).isEqualTo(400);
    assertThat(badTag.serverMessage()).isEqualTo("tag must start with the string 'tag:'");
    assertThat(((HeadscaleApiException) badTag).grpcCode()).isEqualTo(3);
    assertThat(badTag.userMessage()).contains("tag:<lowercase name>");
    assertThat(sleeps).isEmpty(); // 400 is never retried

    ControlPlaneException noTags = catchThrowableOfType(ControlPlaneException.class,
        () -> cp.createAuthKey(AuthKeyRequest.forProxy(List.of(" "), false, null)));
    assertThat(noTags.kind()).isEqualTo(Kind.BAD_REQUEST);
    assertThat(noTags.status()).isZero(); // refused before any call
  }

  @Test
  void listsPreAuthKeysWithTheirUsedFlagAndNoDescription() throws Exception {
    HeadscaleControlPlane cp = client();
    AuthKey key = cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, "op proxy x opabc")
        .withExpiry(Duration.ofMinutes(30)));
    io.tailops.controlplane.AuthKeyInfo listed = cp.listAuthKeys().stream().filter(k -> k.id().equals(key.id()))
        .findFirst().orElseThrow();
    assertThat(listed.detailed()).isTrue();
    assertThat(listed.description()).isNull(); // headscale keys have none: nothing names the client that minted them
    assertThat(listed.used()).isFalse();
    assertThat(listed.reusable()).isFalse();
    assertThat(listed.tags()).containsExactly("tag:k8s");
    assertThat(Duration.between(listed.created(), listed.expires())).isBetween(Duration.ofMinutes(29),
        Duration.ofMinutes(31));
    assertThat(cp.getAuthKey(key.id())).contains(listed);
    String host = "used-" + UUID.randomUUID().toString().substring(0, 8);
    try (TailnetClient node = TailnetClient.builder(headscale).hostname(host).authKey(key.secret()).proxies(false)
        .start()) {
      assertThat(node.nodeId()).isNotEmpty();
      assertThat(cp.getAuthKey(key.id()).orElseThrow().used()).isTrue();
    }
    assertThat(events).contains("GET /api/v1/preauthkey 200");
  }

  @Test
  void deletingAnAuthKeyExpiresAndRemovesIt() throws Exception {
    HeadscaleControlPlane cp = client();
    AuthKey key = cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null));
    cp.deleteAuthKey(key.id());
    assertThat(headscale.preAuthKeys()).extracting(PreAuthKey::id).doesNotContain(key.id());
    assertThat(events).containsSubsequence("POST /api/v1/preauthkey/expire 200", "DELETE /api/v1/preauthkey 200");
    // unknown keys are not an error; ids that cannot be headscale ids cause no call at all
    cp.deleteAuthKey("987654");
    int calls = events.size();
    cp.deleteAuthKey("kAbCdEf1CNTRL");
    assertThat(events).hasSize(calls);
  }

  @Test
  void devicesAreHeadscaleNodesAndDeletingTwiceReportsGone() throws Exception {
    HeadscaleControlPlane cp = client();
    AuthKey key = cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null));
    String host = "proxy-" + UUID.randomUUID().toString().substring(0, 8);
    try (TailnetClient node = TailnetClient.builder(headscale).hostname(host).authKey(key.secret()).proxies(false)
        .start()) {
      String id = node.nodeId();
      Device d = cp.getDevice(id).orElseThrow();
      assertThat(d.nodeId()).isEqualTo(id).matches("[0-9]+");
      assertThat(d.legacyId()).isEqualTo(id);
      assertThat(d.name()).isEqualTo(host + ".tailnet.test").isEqualTo(node.fqdn());
      assertThat(d.dnsLabel()).isEqualTo(host);
      assertThat(d.hostname()).isEqualTo(host);
      assertThat(d.tags()).containsExactly("tag:k8s");
      assertThat(d.addresses()).hasSize(2).contains(node.ipv4());
      assertThat(d.online()).isTrue();
      assertThat(d.created()).isBefore(Instant.now().plusSeconds(1));
      assertThat(d.lastSeen()).isNotNull();
      assertThat(cp.listDevices()).extracting(Device::nodeId).contains(id);

      assertThat(cp.deleteDevice(id)).isTrue();
      assertThat(cp.deleteDevice(id)).isFalse();
      assertThat(cp.getDevice(id)).isEmpty();
      assertThat(cp.listDevices()).extracting(Device::nodeId).doesNotContain(id);
    }
    // a Tailscale stable id cannot be a headscale node: empty / false without a call
    int calls = events.size();
    assertThat(cp.getDevice("nAbC123CNTRL")).isEmpty();
    assertThat(cp.deleteDevice("nAbC123CNTRL")).isFalse();
    assertThat(events).hasSize(calls);
    assertThat(events).contains("GET /api/v1/node/{id} 200", "DELETE /api/v1/node/{id} 200",
        "DELETE /api/v1/node/{id} 404", "GET /api/v1/node/{id} 404", "GET /api/v1/node 200");
  }

  @Test
  void withoutABaseDomainNamesAreBareUntilOneIsLearned() throws Exception {
    PreAuthKey key = headscale.createPreAuthKey("tag:k8s");
    try (TailnetClient node = TailnetClient.builder(headscale).hostname("bare-name").authKey(key.key())
        .proxies(false).start()) {
      HeadscaleControlPlane cp = client(b -> b.baseDomain(null));
      assertThat(cp.baseDomain()).isEmpty();
      assertThat(cp.getDevice(node.nodeId()).orElseThrow().name()).isEqualTo("bare-name");
      assertThat(cp.learnBaseDomain(node.fqdn() + ".")).isTrue();
      assertThat(cp.learnBaseDomain("other.example.com")).isFalse();
      assertThat(cp.baseDomain()).contains("tailnet.test");
      assertThat(cp.getDevice(node.nodeId()).orElseThrow().name()).isEqualTo("bare-name.tailnet.test");
      headscale.deleteNode(node.nodeId());
    }
  }

  @Test
  void readsTagOwnersFromThePolicy() throws Exception {
    TailnetPolicy p = client().readPolicy();
    assertThat(p.tagOwnedBy("tag:k8s", "tag:k8s-operator")).isTrue();
    assertThat(p.defines("tag:e2e-client")).isTrue();
    assertThat(p.nodeAttrs()).isEmpty();
    assertThat(client().capabilities()).isEqualTo(new ControlPlane.Capabilities("headscale", false, false, true, false,
        false));
    assertThat(client().capabilities().keyDescriptions()).as("pre-auth keys have no description").isFalse();
  }

  @Test
  void withoutAPolicyReadingItIsUnsupportedAndNotRetried() {
    try (HeadscaleServer bare = HeadscaleServer.builder().start()) {
      HeadscaleControlPlane cp = HeadscaleControlPlane.builder(bare.baseUrl(), ApiKeySource.of(bare.apiKey()))
          .retryPolicy(RetryPolicy.defaults().withSleeper(sleeps::add))
          .listener((method, endpoint, status, duration) -> events.add(method + " " + endpoint + " " + status))
          .build();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, cp::readPolicy);
      assertThat(e.kind()).isEqualTo(Kind.UNSUPPORTED);
      assertThat(e.status()).isEqualTo(500);
      assertThat(e.getMessage()).contains("headscale has no policy to read");
      assertThat(events).containsExactly("GET /api/v1/policy 500");
      assertThat(sleeps).isEmpty();
    }
  }

  @Test
  void credentialsAreCheckedAndRereadFromTheFile() throws Exception {
    HeadscaleControlPlane cp = client();
    cp.checkCredentials();
    assertThat(events).containsExactly("GET /api/v1/health 200");

    String wrong = "hskey-api-AAAAAAAAAAAA-" + "x".repeat(40);
    Files.writeString(keyFile, wrong);
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, cp::checkCredentials);
    assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
    assertThat(e.status()).isEqualTo(401);
    assertThat(e.serverMessage()).isEqualTo("Unauthorized");
    assertThat(e.userMessage()).contains("headscale apikeys create");
    assertThat(e.getMessage()).doesNotContain(wrong).doesNotContain(headscale.apiKey());
    assertThat(sleeps).isEmpty(); // 401 is not retried

    Files.writeString(keyFile, headscale.apiKey()); // rotated back: used on the next call, no restart
    cp.checkCredentials();
    assertThat(cp.credentialStatus()).contains("changed 2 times").doesNotContain(headscale.apiKey());
  }

  @Test
  void aKeyThatChangesDuringACallIsRetriedOnceAfterA401() throws Exception {
    String good = headscale.apiKey();
    List<String> served = new ArrayList<>(List.of("hskey-api-BBBBBBBBBBBB-" + "y".repeat(40), good));
    ApiKeySource rotating = new ApiKeySource() {
      @Override
      public synchronized String current() {
        return served.size() > 1 ? served.remove(0) : served.get(0);
      }

      @Override
      public String describe() {
        return "rotating";
      }
    };
    HeadscaleControlPlane cp = HeadscaleControlPlane.builder(headscale.baseUrl(), rotating)
        .listener((method, endpoint, status, duration) -> events.add(method + " " + endpoint + " " + status))
        .build();
    cp.listDevices();
    assertThat(events).containsExactly("GET /api/v1/node 401", "GET /api/v1/node 200");
  }

  @Test
  void anExpiredApiKeyIsUnauthorized() throws Exception {
    String expiring = headscale.cli("apikeys", "create", "--expiration", "1h").strip();
    Files.writeString(keyFile, expiring);
    HeadscaleControlPlane cp = client();
    cp.checkCredentials();
    headscale.cli("apikeys", "expire", "--prefix", expiring.substring("hskey-api-".length(),
        "hskey-api-".length() + 12));
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, cp::listDevices);
    assertThat(e.kind()).isEqualTo(Kind.UNAUTHORIZED);
  }

  @Test
  void missingKeyFileIsCredentialsUnavailable() throws Exception {
    Files.delete(keyFile);
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> client().listDevices());
    assertThat(e.kind()).isEqualTo(Kind.CREDENTIALS_UNAVAILABLE);
    assertThat(e.getMessage()).contains(keyFile.toString(), "headscale apikeys create");
    assertThat(events).isEmpty();
  }

  @Test
  void aWrongBaseUrlIsAnErrorNotAMissingDevice() {
    HeadscaleControlPlane cp = client(headscale.baseUrl() + "/not-headscale", b -> b);
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, () -> cp.getDevice("1"));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
    assertThat(e.getMessage()).contains("no such route");
    ControlPlaneException d = catchThrowableOfType(ControlPlaneException.class, () -> cp.deleteDevice("1"));
    assertThat(d.kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void aStoppedServerIsATransportErrorAfterRetriesAndMintingIsNotRepeatedBlindly() throws Exception {
    try (HeadscaleServer down = HeadscaleServer.builder().start()) {
      Files.writeString(keyFile, down.apiKey());
      HeadscaleControlPlane cp = client(down.baseUrl(), b -> b);
      cp.checkCredentials();
      down.stop();
      events.clear();
      ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class, cp::listDevices);
      assertThat(e.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(e.isTransient()).isTrue();
      assertThat(events).containsExactly("GET /api/v1/node -1", "GET /api/v1/node -1", "GET /api/v1/node -1");
      assertThat(sleeps).hasSize(2);
      // connection refused: the POST certainly did not arrive, so it is retried as well
      events.clear();
      ControlPlaneException mint = catchThrowableOfType(ControlPlaneException.class,
          () -> cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null)));
      assertThat(mint.kind()).isEqualTo(Kind.TRANSPORT);
      assertThat(events).hasSize(3);

      down.start();
      assertThat(cp.listDevices()).isEmpty();
    }
  }

  @Test
  void noSecretReachesALogLineOrAnExceptionMessage() throws Exception {
    HeadscaleControlPlane cp = client();
    AuthKey key = cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null));
    List<ControlPlaneException> errors = new ArrayList<>();
    errors.add(catchThrowableOfType(ControlPlaneException.class,
        () -> cp.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:" + key.secret()), false, null))));
    Files.writeString(keyFile, "hskey-api-CCCCCCCCCCCC-" + "z".repeat(40));
    errors.add(catchThrowableOfType(ControlPlaneException.class, cp::listDevices));
    Files.writeString(keyFile, headscale.apiKey());
    cp.deleteAuthKey(key.id());
    Optional<Device> none = cp.getDevice("424242");
    assertThat(none).isEmpty();

    List<String> texts = new ArrayList<>();
    for (ControlPlaneException e : errors) {
      assertThat(e).isNotNull();
      texts.add(e.getMessage());
      texts.add(e.userMessage());
      texts.add(String.valueOf(e.serverMessage()));
    }
    for (ILoggingEvent ev : logs.list) {
      texts.add(ev.getFormattedMessage());
    }
    texts.add(cp.toString());
    texts.add(cp.credentialStatus());
    texts.add(key.toString());
    assertThat(logs.list).isNotEmpty();
    for (String t : texts) {
      assertThat(t).doesNotContain(key.secret()).doesNotContain(headscale.apiKey())
          .doesNotContain("z".repeat(40));
    }
  }
}
