package io.tailops.operator.pipeline;

import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClasses;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyHealer;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyWrites;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reconcile of one parent of any proxy kind. The kind plans and projects; this class does the rest, in this order:
 * plan → (not wanted: clean up) → ProxyClass gate → hostname gate → finalizer → provision (create what is missing, put
 * back what was changed by hand) → heal → status: one write at the end, only when the projected status differs, with
 * the events of the reconcile. Depends only on narrow read and write interfaces, so every behaviour runs in a unit test
 * without an API server.
 */
public final class ProxyPipeline<P extends HasMetadata, S, Q> {
  /** How long a parent whose hostname is taken waits before looking again (it is also woken when the name is freed). */
  static final Duration CONFLICT_RECHECK = Duration.ofMinutes(5);
  /** Reason of the Normal event saying a hand edit of a proxy object was put back. */
  public static final String REASON_REVERTED = "ManualChangeReverted";
  private static final Logger LOG = LoggerFactory.getLogger(ProxyPipeline.class);

  private final ProxyKind<P, S, Q> kind;
  private final OperatorContext ctx;
  private final ProxyObjectStore store;
  private final Function<String, Optional<ProxyClass>> proxyClasses;
  private final ProxyProvisioner provisioner;
  private final ProxyHealer healer;
  private final FunnelPreflight funnelPreflight;
  private final ProblemReporter notes;

  /**
   * @param store the proxy objects (informer caches)
   * @param writes where proxy objects are written
   * @param proxyClasses ProxyClasses by name (informer cache)
   */
  public ProxyPipeline(ProxyKind<P, S, Q> kind, OperatorContext ctx, ProxyObjectStore store, ProxyWrites writes,
      Function<String, Optional<ProxyClass>> proxyClasses) {
    this.kind = kind;
    this.ctx = ctx;
    this.store = store;
    this.proxyClasses = proxyClasses;
    this.provisioner = new ProxyProvisioner(writes, ctx::controlPlane, ctx.proxyDefaults(), ctx.clock());
    this.healer = new ProxyHealer(writes, ctx::controlPlane, ctx.proxyDefaults(), ctx.clock(),
        ctx.config().reauthMinInterval(), ctx.config().selfHealing());
    this.funnelPreflight = new FunnelPreflight(ctx::controlPlane);
    this.notes = new ProblemReporter(ctx.events());
  }

  /**
   * Reconciles {@code parent}.
   *
   * @param gone whether the parent no longer exists (its last state is given)
   * @return when to look again, if the pipeline waits for something no event announces
   * @throws ProvisionException when provisioning or cleanup failed (retried with backoff)
   */
  public Optional<Duration> reconcile(P parent, boolean gone, ParentWrites<P> parentWrites)
      throws ProvisionException {
    ParentRef ref = ParentRef.of(kind.parentType(), parent);
    boolean deleting = gone || parent.getMetadata().getDeletionTimestamp() != null;
    Decision<Q> decision = deleting ? new Decision.NotWanted<>("the " + kind.kindName() + " is being deleted")
        : kind.plan(parent, store);
    LOG.debug("reconciling {} ({}): {}", ref, gone ? "deleted" : parent.getMetadata().getResourceVersion(),
        decision.getClass().getSimpleName());
    if (decision instanceof Decision.NotWanted<Q> notWanted) {
      return stop(parent, ref, notWanted.why(), gone, parentWrites);
    }
    if (decision instanceof Decision.Invalid<Q> invalid) {
      finish(parent, null, new Outcome.Blocked(Outcome.Gate.INVALID, invalid.conditionReason(), invalid.problems()),
          List.of(), parentWrites);
      return Optional.empty();
    }
    Decision.Wanted<Q> wanted = (Decision.Wanted<Q>) decision;
    List<Problem> found = new ArrayList<>(wanted.notes());

    // 1. The ProxyClass must exist and be ready; nothing changes until it is.
    ProxyClass pc = null;
    String pcName = wanted.proxyClassName();
    if (pcName != null) {
      Optional<ProxyClass> byName = proxyClasses.apply(pcName);
      if (byName.isEmpty()) {
        block(parent, wanted, Outcome.Gate.PROXY_CLASS_MISSING, Outcome.FAILED, Problem.warning("ProxyClassNotFound",
            "ProxyClass " + pcName + " not found; create it or remove the " + TailscaleKeys.PROXY_CLASS
                + " label/annotation"), found, parentWrites);
        return Optional.empty();
      }
      pc = byName.get();
      if (pc.getMetadata().getDeletionTimestamp() != null) {
        found.add(Problem.warning("ProxyClassDeleting", "ProxyClass " + pcName + " is being deleted but this "
            + kind.kindName() + " still uses it; the proxy keeps its configuration. Remove the "
            + TailscaleKeys.PROXY_CLASS + " label/annotation or recreate the class"));
      }
      if (!ProxyClasses.isReady(pc)) {
        block(parent, wanted, Outcome.Gate.PROXY_CLASS_NOT_READY, Outcome.PENDING, Problem.warning(
            "ProxyClassNotReady", "ProxyClass " + pcName + " specified for the " + kind.kindName()
                + ", but is not (yet) Ready, waiting.." + ProxyClasses.whyNotReady(pc)), found, parentWrites);
        return Optional.empty();
      }
    }

    // 2. One hostname, one owner.
    ProxySpec spec = wanted.spec().withProxyClass(pc);
    for (int i = 0; i < Math.max(1, spec.replicas()); i++) {
      String hostname = spec.hostname(i);
      Optional<HostnameClaims.Claim> owner = ctx.hostnames().owner(hostname);
      if (owner.isPresent() && !owner.get().uid().equals(parent.getMetadata().getUid())) {
        block(parent, wanted, Outcome.Gate.HOSTNAME_CONFLICT, Outcome.CONFLICT, Problem.warning("HostnameConflict",
            "hostname " + hostname + " is already used by " + owner.get().describe() + "; "
                + kind.claim(parent).howToRename()), found, parentWrites);
        return Optional.of(CONFLICT_RECHECK);
      }
    }

    // 3. The finalizer, before anything is created that must be cleaned up.
    if (!parent.hasFinalizer(FINALIZER)) {
      parent = parentWrites.addFinalizer(parent, FINALIZER);
    }

    // 4. The proxy's objects: created, or put back where they differ.
    ObservedProxy proxy;
    try {
      proxy = provisioner.provision(spec, wanted.blueprint(), store);
    } catch (ProvisionException e) {
      ctx.errors().error(ref.toString(), e.getMessage());
      block(parent, wanted, Outcome.Gate.PROVISIONING_FAILED, Outcome.FAILED, Problem.warning(e.eventReason(),
          "failed to provision: " + e.getMessage()), found, parentWrites);
      throw e;
    }
    for (String reverted : proxy.reverted()) {
      LOG.info("{}: {}", ref, reverted);
      ctx.events().normal(parent, REASON_REVERTED, reverted);
    }

    // 5. Self-healing.
    Optional<ProxyHealer.Outcome> healed = healer.check(spec, proxy, annotation(parent, TailscaleKeys.FORCE_REAUTH));
    if (healed.isPresent()) {
      found.add(healed.get().event());
      if (healed.get().acted()) {
        ctx.metrics().selfHealing(healed.get().event().reason());
        finish(parent, wanted.plan(), new Outcome.Healing(healed.get().event()), found, parentWrites);
        return Optional.empty();
      }
    }
    if (proxy.keyMinted()) {
      ctx.events().normal(parent, "ProxyProvisioning", "created proxy " + proxy.name() + " in namespace "
          + ctx.config().namespace() + " for tailnet hostname " + spec.hostname());
    }
    if (wanted.funnel()) {
      funnelPreflight.check(parent.getMetadata().getUid(), spec.tags()).ifPresent(found::add);
    } else {
      funnelPreflight.forget(parent.getMetadata().getUid());
    }

    // 6. The status, once.
    return finish(parent, wanted.plan(), new Outcome.Running(proxy), found, parentWrites);
  }

  private void block(P parent, Decision.Wanted<Q> wanted, Outcome.Gate gate, String reason, Problem problem,
      List<Problem> found, ParentWrites<P> parentWrites) {
    finish(parent, wanted.plan(), new Outcome.Blocked(gate, reason, List.of(problem)), found, parentWrites);
  }

  /**
   * Writes the projected status if it differs (then records the events of the change) and reports the notes; returns
   * when the kind wants to look again.
   */
  private Optional<Duration> finish(P parent, Q plan, Outcome outcome, List<Problem> found,
      ParentWrites<P> parentWrites) {
    Projection<S> projection = kind.project(parent, plan, outcome);
    if (projection.status() != null && !kind.sameStatus(kind.status(parent), projection.status())) {
      S desired = projection.status();
      UnaryOperator<P> apply = fresh -> {
        // After a conflict the status is projected again onto the fresh copy (other fields may have changed).
        S status = fresh == parent ? desired : kind.project(fresh, plan, outcome).status();
        return kind.withStatus(fresh, status == null ? desired : status);
      };
      parentWrites.writeStatus(parent, apply);
      for (Problem e : projection.onChange()) {
        ctx.events().record(parent, e.type(), e.reason(), e.message());
      }
    }
    List<Problem> all = new ArrayList<>(found);
    all.addAll(projection.notes());
    notes.report(parent, all);
    return Optional.ofNullable(projection.recheckAfter());
  }

  private Optional<Duration> stop(P parent, ParentRef ref, String why, boolean gone, ParentWrites<P> parentWrites)
      throws ProvisionException {
    boolean hadFinalizer = parent.hasFinalizer(FINALIZER);
    boolean removed = false;
    if (hadFinalizer || !store.statefulSets(ref).isEmpty() || !store.secrets(ref).isEmpty()) {
      LOG.info("removing the proxy of {}: {}", ref, why);
      Set<String> hostnames = new LinkedHashSet<>();
      for (Secret s : store.secrets(ref)) {
        String h = ReplicaState.of(s).configuredHostname();
        if (h != null) {
          hostnames.add(h);
        }
      }
      boolean done;
      try {
        done = provisioner.cleanup(ref, store);
      } catch (ProvisionException e) {
        ctx.errors().error(ref.toString(), e.getMessage());
        if (!gone) {
          ctx.events().warning(parent, e.eventReason(), e.getMessage());
        }
        throw e;
      }
      if (!done) {
        return Optional.empty(); // the StatefulSet's deletion event brings us back
      }
      if (hadFinalizer && !gone) {
        parent = parentWrites.removeFinalizer(parent, FINALIZER);
      }
      if (!gone && parent.getMetadata().getDeletionTimestamp() == null) {
        ctx.events().normal(parent, "ProxyRemoved", "removed the tailnet proxy: " + why);
      }
      // Whoever waits for one of the freed hostnames gets it now.
      hostnames.addAll(kind.claim(parent).hostnames());
      for (String h : hostnames) {
        ctx.hostnames().freed(h, parent.getMetadata().getUid());
      }
      removed = true;
    } else {
      LOG.debug("{} has no proxy: {}", ref, why);
    }
    if (!gone && parent.getMetadata().getDeletionTimestamp() == null) {
      finish(parent, null, new Outcome.NotWanted(removed), List.of(), parentWrites);
    }
    String uid = parent.getMetadata().getUid();
    notes.forget(parent);
    funnelPreflight.forget(uid);
    kind.forget(uid);
    return Optional.empty();
  }

  private static String annotation(HasMetadata obj, String key) {
    Map<String, String> a = obj.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
