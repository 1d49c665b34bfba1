package io.tailops.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.operator.proxy.ProvisionException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one door every reconcile of every kind passes through (the proxy kinds and ProxyClasses): timing and the reconcile
 * metric, per-object exponential backoff on failure (or exactly the control plane's {@code Retry-After} when it gave
 * one), and an inbound event source that retries every waiting object at once when the reason it waits goes away
 * (credentials fixed) or when another object asks for it (a hostname was freed).
 *
 * @param <P> the reconciled kind
 */
public final class RetryingReconcile<P extends HasMetadata> {
  /** The body of one reconcile: empty for done, or when to look again. */
  public interface Body<P> {
    Optional<Duration> run(P resource) throws ProvisionException;
  }

  private static final Logger LOG = LoggerFactory.getLogger(RetryingReconcile.class);

  private final String controller;
  private final OperatorContext ctx;
  private final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5));
  /** Objects waiting in backoff. */
  private final Map<String, ResourceID> failing = new ConcurrentHashMap<>();
  private final SimpleInboundEventSource<P> kicks;

  public RetryingReconcile(String controller, OperatorContext ctx) {
    this.controller = controller;
    this.ctx = ctx;
    this.kicks = new SimpleInboundEventSource<>(controller + "-kicks");
    ctx.retryKicks().register(this::retryFailingNow);
  }

  /** The event source to register with the controller. */
  public SimpleInboundEventSource<P> eventSource() {
    return kicks;
  }

  /** Reconciles {@code id} soon (another object changed something it waits for). */
  public void kick(ResourceID id) {
    kicks.propagateEvent(id);
  }

  public UpdateControl<P> reconcile(P resource, Body<P> body) {
    Instant start = ctx.clock().instant();
    String uid = resource.getMetadata().getUid();
    String outcome = "ok";
    try {
      Optional<Duration> again = body.run(resource);
      backoff.succeeded(uid);
      failing.remove(uid);
      return again.map(d -> UpdateControl.<P>noUpdate().rescheduleAfter(d)).orElseGet(UpdateControl::noUpdate);
    } catch (ProvisionException e) {
      outcome = "error";
      // The control plane said when to come back (Retry-After): exactly then, neither earlier (the call would only be
      // held back) nor later (a rate-limited object, reconciled again and again by its own events meanwhile, would
      // otherwise climb the backoff to its 5-minute cap and wait long after the limit is over).
      Optional<Duration> hint = retryAfter(e);
      Duration wait = hint.isPresent() ? hint.get() : backoff.failed(uid);
      failing.put(uid, ResourceID.fromResource(resource));
      LOG.info("reconcile failed, retrying in {}s: {}", wait.toSeconds(), e.getMessage());
      return UpdateControl.<P>noUpdate().rescheduleAfter(wait);
    } finally {
      ctx.metrics().reconciled(controller, outcome, Duration.between(start, ctx.clock().instant()));
    }
  }

  /** The control plane's {@code Retry-After} behind {@code e}, if it gave one. */
  static Optional<Duration> retryAfter(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ControlPlaneException cpe) {
        return cpe.retryAfter();
      }
    }
    return Optional.empty();
  }

  private void retryFailingNow() {
    failing.forEach((uid, id) -> {
      backoff.succeeded(uid);
      kicks.propagateEvent(id);
    });
  }
}
