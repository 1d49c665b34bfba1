package io.tailops.controlplane.tailscale;

import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** A fake Tailscale API, credential files for its operator client, and a client wired to both without real sleeps. */
abstract class ClientFixture {
  @TempDir
  Path dir;

  FakeTailscaleApi fake;
  OAuthClient oauth;
  Path idFile;
  Path secretFile;
  final MutableClock clock = new MutableClock();
  final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
  final List<String> events = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void startFake() {
    fake = FakeTailscaleApi.start();
    oauth = fake.addOAuthClient(List.of("auth_keys", "devices:core", "services", "policy_file:read"),
        List.of("tag:k8s-operator"));
    idFile = dir.resolve("client_id");
    secretFile = dir.resolve("client_secret");
    writeCredentials(oauth);
  }

  @AfterEach
  void stopFake() {
    fake.close();
  }

  /** Retries recorded in {@link #sleeps} and passed on the clock, never actually slept. */
  RetryPolicy fastRetries() {
    return RetryPolicy.defaults().withMaxAttempts(4).withBaseDelay(Duration.ofMillis(100))
        .withMaxDelay(Duration.ofSeconds(1)).withSleeper(d -> {
          sleeps.add(d);
          clock.advance(d);
        });
  }

  TailscaleApiClient client() {
    return client(b -> b);
  }

  TailscaleApiClient client(UnaryOperator<TailscaleApiClient.Builder> customise) {
    TailscaleApiClient.Builder b = TailscaleApiClient.builder(CredentialSource.fromFiles(idFile, secretFile))
        .loginServer(fake.baseUrl())
        .retryPolicy(fastRetries())
        .connectTimeout(Duration.ofSeconds(2))
        .requestTimeout(Duration.ofSeconds(5))
        .clock(clock)
        .listener((method, endpoint, status, duration) -> events.add(method + " " + endpoint + " " + status));
    return customise.apply(b).build();
  }

  void writeCredentials(OAuthClient c) {
    write(idFile, c.id());
    write(secretFile, c.secret());
  }

  static void write(Path file, String content) {
    try {
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** System time plus an offset that tests move forward. */
  static final class MutableClock extends Clock {
    private volatile Duration offset = Duration.ZERO;

    void advance(Duration d) {
      offset = offset.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.now().plus(offset);
    }
  }
}
