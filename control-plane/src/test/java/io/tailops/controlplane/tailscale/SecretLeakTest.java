package io.tailops.controlplane.tailscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeAuthKey;
import io.tailops.testkit.tailscale.Fault;
import io.tailops.testkit.tailscale.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Provokes every error class with the most verbose logging and checks that no client secret, access token or auth key
 * appears in exception messages, user messages, {@code toString()}s, causes or log lines.
 */
class SecretLeakTest extends ClientFixture {
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private Logger logger;
  private Level previousLevel;

  @BeforeEach
  void captureLogs() {
    logger = (Logger) LoggerFactory.getLogger("io.tailops");
    previousLevel = logger.getLevel();
    logger.setLevel(Level.TRACE);
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void restoreLogs() {
    logger.detachAppender(logs);
    logger.setLevel(previousLevel);
  }

  @Test
  void noErrorClassLeaksASecret() throws Exception {
    List<ControlPlaneException> errors = new ArrayList<>();
    AuthKeyRequest okRequest = AuthKeyRequest.forProxy(List.of("tag:k8s"), false, null);

    // A successful mint first, so that an auth key secret and a token exist to leak.
    TailscaleApiClient client = client(b -> b.requestTimeout(Duration.ofMillis(300)));
    AuthKey minted = client.createAuthKey(okRequest);
    String authKeySecret = minted.secret();

    // UNAUTHORIZED at the token endpoint (wrong secret) ...
    String wrongSecret = "tskey-client-" + oauth.id() + "-WrongSecretValue123";
    write(secretFile, wrongSecret);
    errors.add(catchThrowableOfType(ControlPlaneException.class, client::listDevices));
    writeCredentials(oauth);
    // ... and at the API (token rejected twice).
    fake.inject(Fault.status(401)).on(Endpoint.LIST_DEVICES).times(2);
    errors.add(catchThrowableOfType(ControlPlaneException.class, client::listDevices));
    // FORBIDDEN
    fake.inject(Fault.status(403)).on(Endpoint.DELETE_DEVICE).times(1);
    errors.add(catchThrowableOfType(ControlPlaneException.class, () -> client.deleteDevice("n1")));
    // TAG_NOT_PERMITTED
    errors.add(catchThrowableOfType(ControlPlaneException.class,
        () -> client.createAuthKey(AuthKeyRequest.forProxy(List.of("tag:nope"), false, null))));
    // BAD_REQUEST, with a server message that echoes secrets (must be scrubbed)
    fake.inject(Fault.status(400, "bad value " + authKeySecret + " / " + oauth.secret())).on(Endpoint.CREATE_KEY)
        .times(1);
    errors.add(catchThrowableOfType(ControlPlaneException.class, () -> client.createAuthKey(okRequest)));
    // NOT_FOUND
    fake.inject(Fault.status(404)).on(Endpoint.GET_POLICY).times(1);
    errors.add(catchThrowableOfType(ControlPlaneException.class, client::readPolicy));
    // RATE_LIMITED
    fake.inject(Fault.status(429).retryAfter("1")).on(Endpoint.LIST_DEVICES).times(4);
    errors.add(catchThrowableOfType(ControlPlaneException.class, client::listDevices));
    clock.advance(Duration.ofSeconds(1)); // the Retry-After holds back every call until it has passed
    // SERVER_ERROR, echoing the current access token
    String token = currentToken();
    fake.inject(Fault.status(500, "token " + token + " broke")).on(Endpoint.GET_DEVICE).times(4);
    errors.add(catchThrowableOfType(ControlPlaneException.class, () -> client.getDevice("n1")));
    // TRANSPORT
    fake.inject(Fault.hang()).on(Endpoint.CREATE_KEY).times(1);
    errors.add(catchThrowableOfType(ControlPlaneException.class, () -> client.createAuthKey(okRequest)));
    // CREDENTIALS_UNAVAILABLE
    write(secretFile, "REPLACE_ME");
    errors.add(catchThrowableOfType(ControlPlaneException.class, client::listDevices));
    writeCredentials(oauth);

    assertThat(errors).doesNotContainNull();
    Set<Kind> kinds = EnumSet.noneOf(Kind.class);
    errors.forEach(e -> kinds.add(e.kind()));
    assertThat(kinds).containsExactlyInAnyOrder(Kind.UNAUTHORIZED, Kind.FORBIDDEN, Kind.TAG_NOT_PERMITTED,
        Kind.BAD_REQUEST, Kind.NOT_FOUND, Kind.RATE_LIMITED, Kind.SERVER_ERROR, Kind.TRANSPORT,
        Kind.CREDENTIALS_UNAVAILABLE);

    Set<String> secrets = new LinkedHashSet<>();
    secrets.add(oauth.secret());
    secrets.add(wrongSecret);
    secrets.add(authKeySecret);
    fake.keys().stream().map(FakeAuthKey::secret).forEach(secrets::add);
    for (RecordedRequest r : fake.requests()) {
      String auth = r.header("Authorization");
      if (auth != null && auth.startsWith("Bearer ")) {
        secrets.add(auth.substring(7));
      }
    }
    assertThat(secrets).hasSizeGreaterThan(3);
    // The key-ID part of a secret is not secret, the random tail is.
    List<String> tails = secrets.stream().map(s -> s.substring(s.lastIndexOf('-') + 1)).toList();

    List<String> texts = new ArrayList<>();
    for (ControlPlaneException e : errors) {
      texts.add(e.getMessage());
      texts.add(e.userMessage());
      texts.add(e.toString());
      texts.add(String.valueOf(e.serverMessage()));
      for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
        texts.add(String.valueOf(t.getMessage()));
      }
    }
    for (ILoggingEvent ev : logs.list) {
      texts.add(ev.getFormattedMessage());
      for (IThrowableProxy tp = ev.getThrowableProxy(); tp != null; tp = tp.getCause()) {
        texts.add(tp.getMessage());
      }
    }
    texts.add(client.toString());
    texts.add(client.credentialStatus());
    texts.add(minted.toString());
    texts.add(new OAuthCredentials(oauth.id(), oauth.secret()).toString());

    assertThat(logs.list).isNotEmpty();
    for (String text : texts) {
      if (text == null) {
        continue;
      }
      for (String s : secrets) {
        assertThat(text).doesNotContain(s);
      }
      for (String tail : tails) {
        assertThat(text).doesNotContain(tail);
      }
    }
    // The scrubbed server messages still say what happened.
    assertThat(errors.get(4).serverMessage()).isEqualTo("bad value tskey-<redacted> / <redacted>");
  }

  private String currentToken() {
    List<RecordedRequest> api = fake.requests().stream()
        .filter(r -> r.header("Authorization") != null && r.header("Authorization").startsWith("Bearer "))
        .toList();
    return api.get(api.size() - 1).header("Authorization").substring(7);
  }
}
