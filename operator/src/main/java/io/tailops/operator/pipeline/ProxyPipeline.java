package io.tailops.operator.pipeline;

import static io.tailops.operator.k8s.TailscaleKeys.FINALIZER;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClasses;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProvisionException;
import io.tailops.operator.proxy.ProxyClassEffects;
import io.tailops.operator.proxy.ProxyHealer;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyWrites;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.Problem;
import io.tailops.operator.status.ProblemReporter;
import io.tailops.operator.status.ServedParents;
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
  /** Reason of the Normal event saying a proxy Secret deleted by hand was made again (and its old device deleted). */
  public static final String REASON_SECRET_RECREATED = "ProxySecretRecreated";
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
    this.provisioner = new ProxyProvisioner(writes, ctx::controlPlane, ctx.proxyDefaults(), ctx.devices(),
        ctx.clock());
    this.healer = new ProxyHealer(writes, ctx::controlPlane, ctx.proxyDefaults(), ctx.clock(),
        ctx.config().reauthMinInterval(), ctx.config().selfHealing(), ctx.devices());
    this.funnelPreflight = new FunnelPreflight(ctx::controlPlane);
    kind.funnelVerdicts(funnelPreflight::verdict);
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
    // Whoever waits for a hostname this parent no longer asks for is woken now.
    ctx.hostnames().claiming(parent.getMetadata().getUid(), deleting ? Set.of()
        : new LinkedHashSet<>(kind.claim(parent).hostnames()));
    if (kind.servedElsewhere(parent)) {
      if (hasProxy(ref)) {
        LOG.info("removing the proxy of {}: it is served by another controller now", ref);
        remove(parent, ref, gone);
      }
      return Optional.empty();
    }
    Decision<Q> decision = deleting ? new Decision.NotWanted<>("the " + kind.kindName() + " is being deleted")
        : kind.plan(parent, store);
    LOG.debug("reconciling {} ({}): {}", ref, gone ? "deleted" : parent.getMetadata().getResourceVersion(),
        decision.getClass().getSimpleName());
    if (decision instanceof Decision.NotWanted<Q> notWanted) {
      return stop(parent, ref, notWanted.why(), notWanted.notes(), gone, parentWrites);
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
      found.addAll(ProxyClassEffects.warningsForUsers(pc));
      if (!ProxyClasses.isReady(pc)) {
        block(parent, wanted, Outcome.Gate.PROXY_CLASS_NOT_READY, Outcome.PENDING, Problem.warning(
            "ProxyClassNotReady", "ProxyClass " + pcName + " specified for the " + kind.kindName()
                + ", but is not (yet) Ready, waiting.." + ProxyClasses.whyNotReady(pc)), found, parentWrites);
        return Optional.empty();
      }
    }

    // 2. One hostname, one owner (HostnameClaims.ORDER). A parent that lost the name has no proxy: one it got before
    // it lost (created in the same second as the owner, before the caches showed the owner) is removed, device
    // included. The owner creates its proxy (or renames it to the name) only once no other proxy asks for the name,
    // so that its device gets the plain name and not name-1; it is woken when the name is let go.
    ProxySpec spec = wanted.spec().withProxyClass(pc);
    Optional<Problem> refusal = wanted.blueprint().refusal(spec);
    if (refusal.isPresent()) {
      block(parent, wanted, Outcome.Gate.INVALID, refusal.get().reason(), refusal.get(), found, parentWrites);
      return Optional.of(REFUSAL_RECHECK);
    }
    found.addAll(wanted.blueprint().notes(spec));
    boolean hasProxy = hasProxy(ref);
    for (int i = 0; i < Math.max(1, spec.replicas()); i++) {
      String hostname = spec.hostname(i);
      Optional<HostnameClaims.Claim> owner = ctx.hostnames().owner(hostname);
      if (owner.isPresent() && !owner.get().uid().equals(parent.getMetadata().getUid())) {
        Problem conflict = Problem.warning("HostnameConflict", "hostname " + hostname + " is already used by "
            + owner.get().describe() + "; " + kind.claim(parent).howToRename());
        if (hasProxy || parent.hasFinalizer(FINALIZER)) {
          LOG.info("{} lost hostname {} to {}: removing its proxy", ref, hostname, owner.get().describe());
          if (!remove(parent, ref, false)) {
            block(parent, wanted, Outcome.Gate.HOSTNAME_CONFLICT, Outcome.CONFLICT, conflict, found, parentWrites);
            return Optional.empty(); // the StatefulSet's deletion event brings us back
          }
          if (parent.hasFinalizer(FINALIZER)) {
            parent = parentWrites.removeFinalizer(parent, FINALIZER);
          }
          if (hasProxy) {
            ctx.events().normal(parent, "ProxyRemoved", "removed the tailnet proxy: hostname " + hostname
                + " belongs to " + owner.get().describe() + ", which asked for it first");
          }
        }
        block(parent, wanted, Outcome.Gate.HOSTNAME_CONFLICT, Outcome.CONFLICT, conflict, found, parentWrites);
        return Optional.of(CONFLICT_RECHECK);
      }
      if (!asksFor(ref, hostname)) {
        List<HostnameClaims.Holder> others = ctx.hostnames().holders(hostname).stream()
            .filter(h -> !ChildLabels.belongsTo(ChildLabels.of(new ParentRef(h.parentType(), h.namespace(),
                h.name(), null)), ref)).toList();
        if (!others.isEmpty()) {
          block(parent, wanted, Outcome.Gate.HOSTNAME_CONFLICT, Outcome.PENDING, Problem.normal("HostnameReleasing",
              "waiting for the proxy of " + others.get(0).describe() + " to let go of hostname " + hostname
                  + " (it is being removed or renamed), so that this proxy's device gets the name " + hostname
                  + " and not " + hostname + "-1"), found, parentWrites);
          return Optional.of(CONFLICT_RECHECK);
        }
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
    Optional<UnaryOperator<P>> change = kind.parentChange(parent, wanted.plan(), proxy);
    if (change.isPresent()) {
      try {
        parent = parentWrites.update(parent, change.get());
      } catch (RuntimeException e) {
        ctx.errors().error(ref.toString(), e.getMessage());
        block(parent, wanted, Outcome.Gate.PROVISIONING_FAILED, Outcome.FAILED, Problem.warning("ProxyFailed",
            "failed to update " + kind.kindName() + ": " + e.getMessage()), found, parentWrites);
        throw new ProvisionException("failed to update " + kind.kindName() + ": " + e.getMessage(), "ProxyFailed",
            true, e);
      }
    }
    for (String recovered : proxy.recovered()) {
      LOG.info("{}: {}", ref, recovered);
      ctx.events().normal(parent, REASON_SECRET_RECREATED, recovered);
    }

    // 5. Self-healing.
    Optional<ProxyHealer.Outcome> healed = healer.check(spec, proxy, annotation(parent, TailscaleKeys.FORCE_REAUTH));
    if (healed.isPresent()) {
      found.add(healed.get().event());
      if (healed.get().acted()) {
        ctx.metrics().selfHealing(healed.get().event().reason());
        finish(parent, wanted, new Outcome.Healing(healed.get().event()), found, parentWrites);
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
    return finish(parent, wanted, new Outcome.Running(proxy, spec), found, parentWrites);
  }

  /** How soon a refused proxy is looked at again (its prerequisite, say a ServiceAccount, may be created meanwhile). */
  static final Duration REFUSAL_RECHECK = Duration.ofMinutes(1);

  private void block(P parent, Decision.Wanted<Q> wanted, Outcome.Gate gate, String reason, Problem problem,
      List<Problem> found, ParentWrites<P> parentWrites) {
    finish(parent, wanted, new Outcome.Blocked(gate, reason, List.of(problem)), found, parentWrites);
  }

  /**
   * Writes the projected status if it differs (then records the events of the change), reports the notes, and records
   * where the parent stands for doctor and the status page; returns when the kind wants to look again.
   *
   * @param wanted the decision when the parent wants a proxy, else null
   */
  private Optional<Duration> finish(P parent, Decision.Wanted<Q> wanted, Outcome outcome, List<Problem> found,
      ParentWrites<P> parentWrites) {
    Q plan = wanted == null ? null : wanted.plan();
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
    served(parent, wanted, outcome, all);
    return Optional.ofNullable(projection.recheckAfter());
  }

  /** Records where the parent stands in {@link ServedParents} (what doctor and the status page list). */
  private void served(P parent, Decision.Wanted<Q> wanted, Outcome outcome, List<Problem> notesNow) {
    String uid = parent.getMetadata().getUid();
    List<Problem> warnings = notesNow.stream().filter(p -> "Warning".equals(p.type())).distinct().toList();
    ServedParents.State state;
    String reason;
    String message;
    String proxy = "";
    if (outcome instanceof Outcome.NotWanted) {
      if (warnings.isEmpty()) {
        ctx.parents().remove(uid);
        return;
      }
      state = ServedParents.State.IGNORED;
      reason = warnings.get(0).reason();
      message = warnings.get(0).message();
      warnings = warnings.subList(1, warnings.size());
    } else if (outcome instanceof Outcome.Blocked b) {
      state = Outcome.PENDING.equals(b.conditionReason()) ? ServedParents.State.PENDING : ServedParents.State.FAILED;
      reason = b.conditionReason();
      message = b.problem().message();
      warnings = warnings.stream().filter(w -> !w.equals(b.problem())).toList();
    } else if (outcome instanceof Outcome.Healing h) {
      state = ServedParents.State.PENDING;
      reason = h.event().reason();
      message = h.event().message();
    } else {
      ObservedProxy running = ((Outcome.Running) outcome).proxy();
      proxy = running.name();
      boolean ready = !running.replicas().isEmpty() && running.replicas().stream().allMatch(r -> r.device()
          .isReady());
      state = ready ? ServedParents.State.READY : ServedParents.State.PENDING;
      reason = ready ? "ProxyReady" : Outcome.PENDING;
      message = ready ? "reachable on the tailnet at " + running.device().fqdn() : "the proxy " + running.name()
          + " is starting and logging in to the tailnet";
    }
    if (proxy.isEmpty()) {
      ParentRef ref = ParentRef.of(kind.parentType(), parent);
      proxy = store.statefulSets(ref).stream().map(x -> x.getMetadata().getName()).findFirst().orElse("");
    }
    List<String> hostnames = kind.claim(parent).hostnames();
    ctx.parents().put(uid, new ServedParents.Entry(kind.kindName(), kind.parentType(),
        parent.getMetadata().getNamespace() == null ? "" : parent.getMetadata().getNamespace(),
        parent.getMetadata().getName(), state, reason, message, hostnames.isEmpty() ? "" : hostnames.get(0), proxy,
        wanted != null && wanted.funnel(), wanted == null ? null : wanted.proxyClassName(), warnings,
        ctx.clock().instant()));
  }

  /**
   * One step of removing the proxy objects (and registered devices) of a parent that no longer exists, whose finalizer
   * never ran (force-deleted while the operator was down): the parent-less sweep's part.
   *
   * @return true when nothing is left; false when waiting for the StatefulSet to go away
   */
  public boolean removeParentless(ParentRef ref) throws ProvisionException {
    Set<String> hostnames = new LinkedHashSet<>();
    for (Secret s : store.secrets(ref)) {
      String h = ReplicaState.of(s).configuredHostname();
      if (h != null) {
        hostnames.add(h);
      }
    }
    boolean done = provisioner.cleanup(ref, kind.ownedTypes());
    if (done) {
      LOG.info("removed the proxy of {}, which no longer exists (deleted without its finalizer running)", ref);
      ctx.metrics().selfHealing("ParentlessProxyRemoved");
      hostnames.forEach(h -> ctx.hostnames().released(h));
    }
    return done;
  }

  /** Whether a replica of the parent's proxy already asks the control plane for {@code hostname}. */
  private boolean asksFor(ParentRef ref, String hostname) {
    return store.secrets(ref).stream().anyMatch(s -> hostname.equalsIgnoreCase(ReplicaState.of(s)
        .configuredHostname()));
  }

  /** Whether any object of the parent's proxy exists (cache). */
  private boolean hasProxy(ParentRef ref) {
    return !store.statefulSets(ref).isEmpty() || !store.secrets(ref).isEmpty();
  }

  /**
   * One step of removing the parent's proxy ({@link ProxyProvisioner#cleanup}); once nothing is left, whoever waits for
   * one of the hostnames it held is woken.
   *
   * @return true when nothing is left; false when waiting for the StatefulSet to go away
   */
  private boolean remove(P parent, ParentRef ref, boolean gone) throws ProvisionException {
    Set<String> hostnames = new LinkedHashSet<>();
    for (Secret s : store.secrets(ref)) {
      String h = ReplicaState.of(s).configuredHostname();
      if (h != null) {
        hostnames.add(h);
      }
    }
    boolean done;
    try {
      done = provisioner.cleanup(ref, kind.ownedTypes());
    } catch (ProvisionException e) {
      ctx.errors().error(ref.toString(), e.getMessage());
      if (!gone) {
        ctx.events().warning(parent, e.eventReason(), e.getMessage());
      }
      throw e;
    }
    if (done) {
      for (String h : hostnames) {
        ctx.hostnames().freed(h, parent.getMetadata().getUid());
      }
    }
    return done;
  }

  private Optional<Duration> stop(P parent, ParentRef ref, String why, List<Problem> nearMisses, boolean gone,
      ParentWrites<P> parentWrites) throws ProvisionException {
    boolean hadFinalizer = parent.hasFinalizer(FINALIZER);
    // The finalizer alone is no proxy: a Service that egressed through a ProxyGroup has it from the group's controller.
    boolean hadProxy = hasProxy(ref);
    boolean removed = false;
    if (hadFinalizer || hadProxy) {
      LOG.info("removing the proxy of {}: {}", ref, why);
      if (!remove(parent, ref, gone)) {
        return Optional.empty(); // the StatefulSet's deletion event brings us back
      }
      if (hadFinalizer && !gone) {
        parent = parentWrites.removeFinalizer(parent, FINALIZER);
      }
      if (hadProxy && !gone && parent.getMetadata().getDeletionTimestamp() == null) {
        ctx.events().normal(parent, "ProxyRemoved", "removed the tailnet proxy: " + why);
      }
      removed = true;
    } else {
      LOG.debug("{} has no proxy: {}", ref, why);
    }
    if (gone) {
      // Whoever waits for a hostname the parent asked for gets it now (also after a restart, when the operator did not
      // see it claim the name).
      for (String h : kind.claim(parent).hostnames()) {
        ctx.hostnames().freed(h, parent.getMetadata().getUid());
      }
    }
    if (!gone && parent.getMetadata().getDeletionTimestamp() == null) {
      if (!nearMisses.isEmpty()) {
        LOG.info("{} is not served: {}", ref, nearMisses.get(0).message());
      }
      finish(parent, null, new Outcome.NotWanted(removed), nearMisses, parentWrites);
    }
    String uid = parent.getMetadata().getUid();
    if (gone || parent.getMetadata().getDeletionTimestamp() != null) {
      ctx.parents().remove(uid);
      notes.forget(parent);
    } else if (nearMisses.isEmpty()) {
      notes.forget(parent);
    }
    funnelPreflight.forget(uid);
    kind.forget(uid);
    return Optional.empty();
  }

  private static String annotation(HasMetadata obj, String key) {
    Map<String, String> a = obj.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
