package io.tailops.operator.runtime;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.threads.TimerTasks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices rotated credentials without a restart: watches the credential files (the mounted {@code operator-oauth}
 * Secret, which kubelet updates in place) and, when they change or while they are known to be bad, checks them
 * against the control plane. A successful check flips {@link OperatorHealth} back to valid, which retries every
 * resource that was waiting for working credentials.
 */
public final class CredentialWatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialWatcher.class);

  private final List<Path> files;
  private final ControlPlane controlPlane;
  private final OperatorHealth health;
  private final Duration badRecheck;
  private final TimerTasks timer = TimerTasks.own("credential-watcher");
  private byte[] fingerprint;
  private long lastCheck;

  public CredentialWatcher(List<Path> files, ControlPlane controlPlane, OperatorHealth health, Duration badRecheck) {
    this.files = files.stream().filter(Objects::nonNull).toList();
    this.controlPlane = controlPlane;
    this.health = health;
    this.badRecheck = badRecheck;
  }

  /** Runs this component's timed work on {@code shared} (the operator's timer thread), not on a thread of its own. */
  public CredentialWatcher on(ScheduledExecutorService shared) {
    timer.moveTo(shared);
    return this;
  }

  /** Checks once now (at start-up, so users see "credentials invalid" right away) and then every {@code period}. */
  public CredentialWatcher start(Duration period) {
    fingerprint = fingerprint();
    timer.execute(this::check);
    timer.scheduleWithFixedDelay(this::tick, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void tick() {
    byte[] now = fingerprint();
    boolean changed = !Arrays.equals(now, fingerprint);
    fingerprint = now;
    boolean bad = health.credentialState() == OperatorHealth.CredentialState.INVALID
        || health.credentialState() == OperatorHealth.CredentialState.UNAVAILABLE;
    if (changed) {
      LOG.info("the credential files changed; checking the new credentials");
      check();
    } else if (bad && System.currentTimeMillis() - lastCheck >= badRecheck.toMillis()) {
      check();
    }
  }

  private void check() {
    lastCheck = System.currentTimeMillis();
    try {
      controlPlane.checkCredentials();
      LOG.info("control-plane credentials work");
    } catch (ControlPlaneException e) {
      LOG.warn("control-plane credentials do not work: {}", e.userMessage());
    } catch (RuntimeException e) {
      LOG.warn("checking the credentials failed: {}", e.toString());
    }
  }

  /** A digest of the files' contents (never logged), or of their absence. */
  private byte[] fingerprint() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path p : files) {
        md.update(p.toString().getBytes());
        md.update(Files.isReadable(p) ? Files.readAllBytes(p) : new byte[] {0});
      }
      return md.digest();
    } catch (Exception e) {
      return new byte[0];
    }
  }

  @Override
  public void close() {
    timer.close();
  }
}
