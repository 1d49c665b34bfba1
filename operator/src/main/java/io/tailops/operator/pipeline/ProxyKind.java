package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ProxyObjectStore;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * What one kind of proxy parent (Service, Ingress, later Connector, ProxyGroup, ...) supplies to the {@link ProxyPipeline}:
 * how to read and validate the parent (a plan), and how the proxy's state shows in the parent's status (a projection).
 * Everything else (ProxyClass gate, hostname claims, finalizer, provisioning, drift, healing, cleanup, events, the one
 * status write) is the pipeline's. Adding a kind is an implementation of this interface and one registration line.
 *
 * @param <P> the parent's type
 * @param <S> the parent's status type
 * @param <Q> the kind's own plan, handed back to the projection
 */
public interface ProxyKind<P extends HasMetadata, S, Q> {

  /**
   * Who the kind is.
   *
   * @param controllerName name of the JOSDK controller (also the reconcile metric's label)
   * @param kindName the parent's kind as users write it ({@code Service}), for messages
   * @param parentType value of the {@code tailscale.com/parent-resource-type} label on the proxy's objects ({@code svc})
   * @param clusterScoped whether parents are cluster-scoped (Connector, ProxyGroup): proxy objects then map back to
   *     their parent by name alone
   */
  record Identity<P>(String controllerName, String kindName, String parentType, Class<P> parentClass,
      boolean clusterScoped) {
  }

  Identity<P> identity();

  default String controllerName() {
    return identity().controllerName();
  }

  default String kindName() {
    return identity().kindName();
  }

  default String parentType() {
    return identity().parentType();
  }

  default Class<P> parentClass() {
    return identity().parentClass();
  }

  /**
   * Whether another controller serves this parent and owns its finalizer and status (a Service egressing through a
   * ProxyGroup): the pipeline then only removes a proxy of its own the parent still has, and writes nothing else.
   */
  default boolean servedElsewhere(P parent) {
    return false;
  }

  default boolean clusterScoped() {
    return identity().clusterScoped();
  }

  /** Controller settings beyond the pipeline's (namespaces, label selectors). */
  default void configure(ControllerConfigurationOverrider<P> controller) {
  }

  /**
   * Object types the kind creates for its proxies besides StatefulSets, Secrets and Services (a ProxyGroup's
   * ServiceAccount, Role, RoleBinding and ConfigMaps, see {@link io.tailops.operator.proxy.DesiredProxy#owned()}):
   * watched in the operator namespace by the proxies' labels, like the others, and removed with the proxy.
   */
  default List<Class<? extends HasMetadata>> ownedTypes() {
    return List.of();
  }

  /**
   * Object types the kind only reads, watched the same way (a ProxyGroup's Pods, whose state its status reports);
   * available to the plan through {@link ProxyObjectStore#objects}.
   */
  default List<Class<? extends HasMetadata>> watchedTypes() {
    return List.of();
  }

  /** Event sources beyond the proxy objects and ProxyClasses (an Ingress's backend Services, its IngressClass). */
  default List<EventSource<?, P>> eventSources(EventSourceContext<P> context, IndexerResourceCache<P> parents) {
    return List.of();
  }

  /**
   * The hostname and ProxyClass the parent asks for, from the parent alone; {@link Claim#NONE} when it asks for no
   * proxy. Evaluated by the parent cache's indexers on every change of a parent, so it must be cheap or memoized per
   * resourceVersion ({@link PlanMemo}).
   */
  Claim claim(P parent);

  /**
   * What the parent wants now (once per reconcile). May read caches: another object the plan depends on, or the proxy's
   * objects ({@code proxies}).
   */
  Decision<Q> plan(P parent, ProxyObjectStore proxies);

  /**
   * The status the parent should have after this reconcile and what to tell the user.
   *
   * @param plan the kind's plan when the parent wants a proxy, else null
   */
  Projection<S> project(P parent, Q plan, Outcome outcome);

  /**
   * A change the kind makes to the parent itself once its proxy exists, or empty when the parent is as it should be
   * (an egress Service is pointed at its proxy's headless Service). Applied before the status is written.
   *
   * @param proxy the provisioned proxy
   */
  default Optional<UnaryOperator<P>> parentChange(P parent, Q plan, ObservedProxy proxy) {
    return Optional.empty();
  }

  /** The parent's current status (null when it has none). */
  S status(P parent);

  /** A copy of {@code parent} with {@code status}. */
  P withStatus(P parent, S status);

  /** Whether two statuses say the same (the pipeline writes only when they do not). */
  boolean sameStatus(S a, S b);

  /**
   * Gives the kind what the tailnet policy says about each parent's Funnel (by UID), for its status wording; called
   * once by the pipeline. Kinds without Funnel ignore it.
   */
  default void funnelVerdicts(Function<String, FunnelPreflight.Verdict> verdicts) {
  }

  /** Forgets what the kind remembers about a parent that no longer wants a proxy (or is gone). */
  default void forget(String uid) {
  }
}
