package io.tailops.operator.proxygroup;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.proxy.DesiredProxy;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyBlueprint;
import io.tailops.operator.proxy.ProxyClassOverlay;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.proxy.ProxyMetrics;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyStatefulSet;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.status.Problem;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The objects of a ProxyGroup of type egress or ingress, as the official operator shapes them
 * ({@code proxygroup_specs.go}): one StatefulSet {@code <pg>} whose pods run with their own ServiceAccount, Role and
 * RoleBinding, one config Secret {@code <pg>-<i>-config} ({@code cap-106.hujson}) and one state Secret {@code <pg>-<i>}
 * per replica, the ConfigMap the proxies read their Services' configuration from ({@code <pg>-egress-config} with
 * {@code hep-pings}, or {@code <pg>-ingress-config}), and the metrics Service when the ProxyClass enables metrics. Every
 * object carries the group's labels and a controller owner reference to the ProxyGroup.
 */
public final class ProxyGroupProxy implements ProxyBlueprint {
  static final String INTERNAL_APP_EGRESS = "k8s-operator-proxygroup-egress";
  static final String INTERNAL_APP_INGRESS = "k8s-operator-proxygroup-ingress";
  /** Where an egress replica's preStop hook waits for cluster traffic to stop reaching it (containerboot). */
  static final String PRESHUTDOWN_PATH = "/internal-egress-services-preshutdown";
  static final int LOCAL_ADDR_PORT = 9002;
  /** Grace period of egress pods, so that the preStop hook can drain them (official: 6 minutes). */
  static final long EGRESS_GRACE_SECONDS = 360;
  static final String PROXIES_MOUNT = "/etc/proxies";

  private final ProxyGroupType type;
  private final ApiServerProxy apiServerProxy;

  /**
   * What a kube-apiserver group's replicas run: the k8s-proxy image ({@code K8S_PROXY_IMAGE}), its mode
   * ({@code auth}/{@code noauth}) and the log level its config file names; and, in auth mode, whether the chart's
   * ServiceAccount {@code kube-apiserver-auth-proxy} the pods run as exists.
   */
  public record ApiServerProxy(String image, String mode, String logLevel, boolean authServiceAccountExists) {
    public boolean auth() {
      return !"noauth".equals(mode);
    }
  }

  public ProxyGroupProxy(ProxyGroupType type) {
    this(type, null);
  }

  public ProxyGroupProxy(ProxyGroupType type, ApiServerProxy apiServerProxy) {
    this.type = type;
    this.apiServerProxy = type == ProxyGroupType.KUBE_APISERVER && apiServerProxy == null
        ? new ApiServerProxy(io.tailops.operator.config.OperatorConfig.DEFAULT_K8S_PROXY_IMAGE, "auth", "info", true)
        : apiServerProxy;
  }

  private boolean kubeApiServer() {
    return type == ProxyGroupType.KUBE_APISERVER;
  }

  /** The ServiceAccount the group's pods run as: the chart's static one for API server proxies in auth mode. */
  String serviceAccountName(String name) {
    return kubeApiServer() && apiServerProxy.auth() ? ProxyGroupPlanner.AUTH_PROXY_SERVICE_ACCOUNT : name;
  }

  @Override
  public Optional<String> fixedName(ParentRef parent) {
    return Optional.of(parent.name());
  }

  @Override
  public DesiredProxy build(ProxySpec spec, String name, ProxyDefaults defaults) {
    String ns = defaults.namespace();
    List<OwnerReference> owner = List.of(owner(spec.parent()));
    ProxyClass pc = spec.proxyClass();
    boolean acceptRoutes = pc != null && pc.getSpec() != null && pc.getSpec().getTailscale() != null
        && Boolean.TRUE.equals(pc.getSpec().getTailscale().getAcceptRoutes());
    String serverUrl = defaults.loginServer().isEmpty() ? null : defaults.loginServer();

    List<DesiredProxy.Replica> replicas = new ArrayList<>();
    StringBuilder covered = new StringBuilder();
    for (int i = 0; i < spec.replicas(); i++) {
      String hostname = spec.hostname(i);
      Secret config = new SecretBuilder().withNewMetadata().withName(ProxyGroupNames.configSecretName(name, i))
          .withNamespace(ns).withLabels(ProxyGroupNames.secretLabels(name, ReplicaState.SECRET_TYPE_CONFIG))
          .withOwnerReferences(owner).endMetadata().build();
      Secret state = new SecretBuilder().withNewMetadata().withName(ProxyGroupNames.stateSecretName(name, i))
          .withNamespace(ns).withLabels(ProxyGroupNames.secretLabels(name, ReplicaState.SECRET_TYPE_STATE))
          .withOwnerReferences(owner).endMetadata().build();
      if (kubeApiServer()) {
        String pod = ProxyGroupNames.podName(name, i);
        boolean issueCerts = i == 0;
        Boolean metricsEnabled = pc != null && pc.getSpec() != null && pc.getSpec().getMetrics() != null
            ? Boolean.TRUE.equals(pc.getSpec().getMetrics().getEnable()) : null;
        Boolean routes = pc != null && pc.getSpec() != null && pc.getSpec().getTailscale() != null
            ? acceptRoutes : null;
        replicas.add(new DesiredProxy.Replica(i, config.getMetadata().getName(), hostname,
            (key, live) -> {
              String liveFile = io.tailops.operator.proxy.ProxyConfigSecret.value(live, K8sProxyConfig.KEY);
              return new K8sProxyConfig(key, pod, apiServerProxy.logLevel(), serverUrl, metricsEnabled, hostname,
                  routes, K8sProxyConfig.advertisedServices(liveFile), apiServerProxy.mode(),
                  K8sProxyConfig.serviceName(liveFile), issueCerts).files();
            }, config, state));
        covered.append(new K8sProxyConfig(null, pod, apiServerProxy.logLevel(), serverUrl, metricsEnabled, hostname,
            routes, List.of(), apiServerProxy.mode(), null, issueCerts).render());
      } else {
        replicas.add(new DesiredProxy.Replica(i, config.getMetadata().getName(), hostname,
            (key, live) -> new ProxyGroupConfig(serverUrl, key, hostname, acceptRoutes,
                ProxyGroupConfig.advertisedServices(live)).files(), config, state));
        // The config without an auth key and without the advertised Services (other writers of the operator decide
        // them).
        covered.append(new ProxyGroupConfig(serverUrl, null, hostname, acceptRoutes, List.of()).render());
      }
      covered.append(Serialization.asJson(config)).append(Serialization.asJson(state));
    }

    List<DesiredProxy.Owned> owned = new ArrayList<>();
    if (serviceAccountName(name).equals(name)) {
      // In auth mode, API server proxies run as the chart's static account (its ClusterRole lets it impersonate).
      owned.add(new DesiredProxy.Owned(serviceAccount(name, ns, owner), List.of("/metadata/labels",
          "/metadata/ownerReferences")));
    }
    owned.add(new DesiredProxy.Owned(role(name, ns, owner, spec.replicas()), List.of("/metadata/labels",
        "/metadata/ownerReferences", "/rules")));
    owned.add(new DesiredProxy.Owned(roleBinding(name, ns, owner, serviceAccountName(name)), List.of(
        "/metadata/labels", "/metadata/ownerReferences", "/subjects")));
    if (kubeApiServer()) {
      // no ConfigMap: the k8s-proxy reads everything from its config Secret
    } else if (type == ProxyGroupType.EGRESS) {
      owned.add(new DesiredProxy.Owned(egressConfigMap(name, ns, owner, spec.replicas()), List.of("/metadata/labels",
          "/metadata/ownerReferences", "/binaryData/" + ProxyGroupNames.KEY_HEP_PINGS)));
    } else {
      owned.add(new DesiredProxy.Owned(ingressConfigMap(name, ns, owner), List.of("/metadata/labels",
          "/metadata/ownerReferences")));
    }
    for (DesiredProxy.Owned o : owned) {
      covered.append(Serialization.asJson(o.object()));
    }

    StatefulSet sts = statefulSet(spec, name, defaults, owner);
    Service metrics = ProxyMetrics.enabled(pc) ? metricsService(spec, name, ns) : null;
    if (metrics != null) {
      covered.append(Serialization.asJson(metrics));
    }
    ProxyStatefulSet.setHash(sts, covered.toString());
    return new DesiredProxy(name, null, replicas, sts, metrics, owned, null);
  }

  @Override
  public List<Problem> notes(ProxySpec spec) {
    ProxyClass pc = spec.proxyClass();
    List<Problem> notes = new ArrayList<>();
    if (pc != null && pc.getSpec() != null && pc.getSpec().getStaticEndpoints() != null) {
      notes.add(Problem.warning("StaticEndpointsNotSupported", "ProxyClass " + pc.getMetadata().getName()
          + " sets staticEndpoints, which this operator does not support yet: no NodePort Services are created and "
          + "the devices advertise no static endpoints, so peers reach them through the usual NAT traversal or DERP. "
          + "Remove staticEndpoints from the class, or run the official operator for this group"));
    }
    if (type == ProxyGroupType.EGRESS && setsLocalAddrPort(pc)) {
      notes.add(Problem.warning("GracefulFailoverDisabled", "ProxyClass " + pc.getMetadata().getName()
          + " sets TS_LOCAL_ADDR_PORT for an egress ProxyGroup: its pods get no preStop hook draining egress "
          + "traffic, so connections through a replica that restarts are cut. Remove TS_LOCAL_ADDR_PORT from the "
          + "class to keep graceful failover"));
    }
    return notes;
  }

  /**
   * What the official operator refuses in a group (its {@code validate}): a kube-apiserver group in auth mode whose
   * pods' ServiceAccount {@code kube-apiserver-auth-proxy} the chart did not create; a ProxyClass naming a
   * {@code tailscale} image for a kube-apiserver group or a {@code k8s-proxy} image for the others; a ProxyClass with
   * init container settings for a kube-apiserver group (it has none).
   */
  @Override
  public Optional<Problem> refusal(ProxySpec spec) {
    List<String> errs = new ArrayList<>();
    if (kubeApiServer() && apiServerProxy.auth() && !apiServerProxy.authServiceAccountExists()) {
      errs.add("the ServiceAccount \"" + ProxyGroupPlanner.AUTH_PROXY_SERVICE_ACCOUNT + "\" used for the API server "
          + "proxy in auth mode does not exist but should have been created during operator installation; use "
          + "apiServerProxyConfig.allowImpersonation=true in the helm chart, or authproxy-rbac.yaml from the static "
          + "manifests");
    }
    ProxyClass pc = spec.proxyClass();
    var pod = pc == null || pc.getSpec() == null || pc.getSpec().getStatefulSet() == null ? null
        : pc.getSpec().getStatefulSet().getPod();
    String image = pod == null || pod.getTailscaleContainer() == null ? null : pod.getTailscaleContainer().getImage();
    String path = image == null || image.isEmpty() ? "" : imagePath(image);
    String pgType = type.value();
    if (kubeApiServer()) {
      if (path.endsWith("tailscale")) {
        errs.add("the configured ProxyClass \"" + pc.getMetadata().getName() + "\" specifies to use image \"" + image
            + "\" but expected a \"k8s-proxy\" image for ProxyGroup of type \"" + pgType + "\"");
      }
      if (pod != null && pod.getTailscaleInitContainer() != null) {
        errs.add("the configured ProxyClass \"" + pc.getMetadata().getName() + "\" specifies Tailscale init container "
            + "config, but ProxyGroups of type \"" + pgType + "\" do not use init containers");
      }
    } else if (path.endsWith("k8s-proxy")) {
      errs.add("the configured ProxyClass \"" + pc.getMetadata().getName() + "\" specifies to use image \"" + image
          + "\" but expected a \"tailscale\" image for ProxyGroup of type \"" + pgType + "\"");
    }
    if (errs.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(Problem.warning(ProxyGroupPlanner.REASON_INVALID, "invalid ProxyGroup spec: "
        + String.join("; ", errs)));
  }

  /**
   * The path of an image reference without registry, tag and digest ({@code tailscale/k8s-proxy} for
   * {@code ghcr.io/tailscale/k8s-proxy:v1.94.2}), as Docker's reference library reads it.
   */
  static String imagePath(String image) {
    String ref = image;
    int at = ref.indexOf('@');
    if (at >= 0) {
      ref = ref.substring(0, at);
    }
    int slash = ref.lastIndexOf('/');
    int colon = ref.lastIndexOf(':');
    if (colon > slash) {
      ref = ref.substring(0, colon);
    }
    int first = ref.indexOf('/');
    if (first > 0) {
      String domain = ref.substring(0, first);
      if (domain.contains(".") || domain.contains(":") || domain.equals("localhost")) {
        ref = ref.substring(first + 1);
      }
    } else {
      ref = "library/" + ref;
    }
    return ref;
  }

  static OwnerReference owner(ParentRef parent) {
    return new OwnerReferenceBuilder().withApiVersion(HasMetadata.getApiVersion(ProxyGroup.class))
        .withKind(ProxyGroup.KIND).withName(parent.name()).withUid(parent.uid()).withController(true)
        .withBlockOwnerDeletion(true).build();
  }

  /** The StatefulSet ({@code pgStatefulSet}), the ProxyClass applied over it. */
  StatefulSet statefulSet(ProxySpec spec, String name, ProxyDefaults defaults, List<OwnerReference> owner) {
    if (kubeApiServer()) {
      return kubeApiServerStatefulSet(spec, name, defaults, owner);
    }
    String ns = defaults.namespace();
    Map<String, String> labels = ProxyGroupNames.labels(name);
    String configMap = type == ProxyGroupType.EGRESS ? ProxyGroupNames.egressConfigMapName(name)
        : ProxyGroupNames.ingressConfigMapName(name);
    boolean drainHook = type == ProxyGroupType.EGRESS && !setsLocalAddrPort(spec.proxyClass());

    List<Volume> volumes = new ArrayList<>();
    List<VolumeMount> mounts = new ArrayList<>();
    for (int i = 0; i < spec.replicas(); i++) {
      volumes.add(new VolumeBuilder().withName("tailscaledconfig-" + i).withNewSecret()
          .withSecretName(ProxyGroupNames.configSecretName(name, i)).endSecret().build());
      mounts.add(new VolumeMountBuilder().withName("tailscaledconfig-" + i).withReadOnly(true)
          .withMountPath("/etc/tsconfig/" + ProxyGroupNames.podName(name, i)).build());
    }
    volumes.add(new VolumeBuilder().withName(configMap).withNewConfigMap().withName(configMap).endConfigMap()
        .build());
    mounts.add(new VolumeMountBuilder().withName(configMap).withMountPath(PROXIES_MOUNT).withReadOnly(true).build());

    ContainerBuilder main = ProxyStatefulSet.tailscaleContainer(defaults.proxyImage())
        .withEnv(env(defaults))
        .withNewSecurityContext().withPrivileged(true).endSecurityContext()
        .withVolumeMounts(mounts);
    if (drainHook) {
      main.withNewLifecycle().withNewPreStop().withNewHttpGet().withPath(PRESHUTDOWN_PATH)
          .withPort(new IntOrString(LOCAL_ADDR_PORT)).endHttpGet().endPreStop().endLifecycle();
    }
    StatefulSet sts = new StatefulSetBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withOwnerReferences(owner)
        .endMetadata()
        .withNewSpec()
        .withReplicas(spec.replicas())
        .withNewSelector().withMatchLabels(labels).endSelector()
        .withNewTemplate()
        .withNewMetadata().withName(name).withNamespace(ns).withLabels(labels)
        .withDeletionGracePeriodSeconds(drainHook ? EGRESS_GRACE_SECONDS : 10L).endMetadata()
        .withNewSpec()
        .withServiceAccountName(name)
        .withInitContainers(ProxyStatefulSet.sysctlInitContainer(defaults.proxyImage()))
        .withContainers(main.build())
        .withVolumes(volumes)
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
    if (spec.proxyClass() != null) {
      ProxyClassOverlay.apply(sts, spec.proxyClass(), true, type == ProxyGroupType.INGRESS);
    }
    return sts;
  }

  /**
   * The StatefulSet of a kube-apiserver group (official {@code kubeAPIServerStatefulSet}): one container running the
   * k8s-proxy image, which reads its config file from the Secret {@code TS_K8S_PROXY_CONFIG} names and serves on 443;
   * no init container, no volumes; the ProxyClass applied over it.
   */
  StatefulSet kubeApiServerStatefulSet(ProxySpec spec, String name, ProxyDefaults defaults,
      List<OwnerReference> owner) {
    String ns = defaults.namespace();
    Map<String, String> labels = ProxyGroupNames.labels(name);
    List<EnvVar> env = new ArrayList<>();
    env.add(fieldRef("POD_NAME", "metadata.name"));
    env.add(fieldRef("POD_UID", "metadata.uid"));
    env.add(fieldRef("POD_IP", "status.podIP"));
    env.add(fieldRef("POD_IPS", "status.podIPs"));
    env.add(value("TS_K8S_PROXY_CONFIG", "kube:" + ns + "/$(POD_NAME)-config"));
    env.add(value("TS_DEBUG_ACME_FORCE_RENEWAL", "true"));
    StatefulSet sts = new StatefulSetBuilder()
        .withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withOwnerReferences(owner)
        .endMetadata()
        .withNewSpec()
        .withReplicas(spec.replicas())
        .withNewSelector().withMatchLabels(labels).endSelector()
        .withNewTemplate()
        .withNewMetadata().withName(name).withNamespace(ns).withLabels(labels).withDeletionGracePeriodSeconds(10L)
        .endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccountName(name))
        .withContainers(new ContainerBuilder()
            .withName(ProxyStatefulSet.CONTAINER_NAME)
            .withImage(apiServerProxy.image())
            .withEnv(env)
            .addNewPort().withName("k8s-proxy").withContainerPort(443).withProtocol("TCP").endPort()
            .build())
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
    if (spec.proxyClass() != null) {
      ProxyClassOverlay.apply(sts, spec.proxyClass(), true, true);
    }
    return sts;
  }

  private List<EnvVar> env(ProxyDefaults defaults) {
    List<EnvVar> env = new ArrayList<>();
    env.add(value("TS_USERSPACE", "false"));
    env.add(fieldRef("POD_IP", "status.podIP"));
    env.add(fieldRef("POD_NAME", "metadata.name"));
    env.add(fieldRef("POD_UID", "metadata.uid"));
    env.add(fieldRef("POD_IPS", "status.podIPs"));
    env.add(value("TS_KUBE_SECRET", "$(POD_NAME)"));
    env.add(value("TS_STATE", "kube:$(POD_NAME)"));
    env.add(value("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "/etc/tsconfig/$(POD_NAME)"));
    env.add(value("TS_DEBUG_ACME_FORCE_RENEWAL", "true"));
    if (!defaults.firewallMode().isEmpty()) {
      env.add(value("TS_DEBUG_FIREWALL_MODE", defaults.firewallMode()));
    }
    if (type == ProxyGroupType.EGRESS) {
      env.add(value("TS_EGRESS_SERVICES_CONFIG_PATH", PROXIES_MOUNT + "/" + ProxyGroupNames.KEY_EGRESS_SERVICES));
      env.add(value("TS_EGRESS_PROXIES_CONFIG_PATH", PROXIES_MOUNT));
      env.add(value("TS_INTERNAL_APP", INTERNAL_APP_EGRESS));
      env.add(value("TS_ENABLE_HEALTH_CHECK", "true"));
    } else {
      env.add(value("TS_INTERNAL_APP", INTERNAL_APP_INGRESS));
      env.add(value("TS_INGRESS_PROXIES_CONFIG_PATH", PROXIES_MOUNT + "/" + ProxyGroupNames.KEY_INGRESS_CONFIG));
      env.add(value("TS_SERVE_CONFIG", PROXIES_MOUNT + "/" + ProxyGroupNames.KEY_SERVE_CONFIG));
      env.add(value("TS_EXPERIMENTAL_CERT_SHARE", "true"));
    }
    return env;
  }

  /** Whether the class sets {@code TS_LOCAL_ADDR_PORT}, which moves the health endpoint the drain hook calls. */
  static boolean setsLocalAddrPort(ProxyClass pc) {
    return pc != null && pc.getSpec() != null && pc.getSpec().getStatefulSet() != null
        && pc.getSpec().getStatefulSet().getPod() != null
        && pc.getSpec().getStatefulSet().getPod().getTailscaleContainer() != null
        && pc.getSpec().getStatefulSet().getPod().getTailscaleContainer().getEnv() != null
        && pc.getSpec().getStatefulSet().getPod().getTailscaleContainer().getEnv().stream()
            .anyMatch(e -> "TS_LOCAL_ADDR_PORT".equals(e.getName()));
  }

  static ServiceAccount serviceAccount(String name, String ns, List<OwnerReference> owner) {
    return new ServiceAccountBuilder().withNewMetadata().withName(name).withNamespace(ns)
        .withLabels(ProxyGroupNames.labels(name)).withOwnerReferences(owner).endMetadata().build();
  }

  /** The pods may list and watch Secrets, read and write their own config and state Secrets, and record Events. */
  static Role role(String name, String ns, List<OwnerReference> owner, int replicas) {
    List<String> secrets = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      secrets.add(ProxyGroupNames.configSecretName(name, i));
      secrets.add(ProxyGroupNames.stateSecretName(name, i));
    }
    return new RoleBuilder().withNewMetadata().withName(name).withNamespace(ns)
        .withLabels(ProxyGroupNames.labels(name)).withOwnerReferences(owner).endMetadata()
        .withRules(
            new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withVerbs("list", "watch").build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withVerbs("get", "patch", "update")
                .withResourceNames(secrets).build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("events").withVerbs("create", "patch", "get")
                .build())
        .build();
  }

  static RoleBinding roleBinding(String name, String ns, List<OwnerReference> owner) {
    return roleBinding(name, ns, owner, name);
  }

  static RoleBinding roleBinding(String name, String ns, List<OwnerReference> owner, String serviceAccount) {
    return new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(ns)
        .withLabels(ProxyGroupNames.labels(name)).withOwnerReferences(owner).endMetadata()
        .addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(ns).endSubject()
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name).endRoleRef()
        .build();
  }

  /** {@code hep-pings}: how often the health check behind an egress Service is pinged to reach every replica. */
  static ConfigMap egressConfigMap(String name, String ns, List<OwnerReference> owner, int replicas) {
    String pings = Integer.toString(replicas * 3);
    return new ConfigMapBuilder().withNewMetadata().withName(ProxyGroupNames.egressConfigMapName(name))
        .withNamespace(ns).withLabels(ProxyGroupNames.labels(name)).withOwnerReferences(owner).endMetadata()
        .addToBinaryData(ProxyGroupNames.KEY_HEP_PINGS,
            Base64.getEncoder().encodeToString(pings.getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  static ConfigMap ingressConfigMap(String name, String ns, List<OwnerReference> owner) {
    return new ConfigMapBuilder().withNewMetadata().withName(ProxyGroupNames.ingressConfigMapName(name))
        .withNamespace(ns).withLabels(ProxyGroupNames.labels(name)).withOwnerReferences(owner).endMetadata()
        .build();
  }

  /**
   * The metrics Service {@code <pg>-metrics} (official labels, job {@code ts_proxygroup_<pg>}), plus the group's labels
   * so that it is found and removed with the group.
   */
  static Service metricsService(ProxySpec spec, String name, String ns) {
    Map<String, String> labels = new LinkedHashMap<>(ProxyGroupNames.labels(name));
    labels.put("tailscale.com/metrics-target", name);
    labels.put("ts_proxy_type", "proxygroup");
    labels.put("ts_proxy_parent_name", name);
    labels.put("ts_prom_job", "ts_proxygroup_" + name);
    return new ServiceBuilder()
        .withNewMetadata().withName(ProxyMetrics.serviceName(name)).withNamespace(ns).withLabels(labels)
        .addToAnnotations(ProxyMetrics.SERVICE_MONITOR_ANNOTATION,
            Boolean.toString(ProxyMetrics.serviceMonitorEnabled(spec.proxyClass())))
        .endMetadata()
        .withNewSpec().withType("ClusterIP").withSelector(ProxyGroupNames.labels(name))
        .addNewPort().withName("metrics").withPort(9002).withProtocol("TCP").endPort()
        .endSpec().build();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef("v1", path).endValueFrom().build();
  }
}
