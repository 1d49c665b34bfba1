package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
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
import io.tailops.api.v1alpha1.EnvVarConfig;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderContainer;
import io.tailops.api.v1alpha1.RecorderPod;
import io.tailops.api.v1alpha1.RecorderServiceAccount;
import io.tailops.api.v1alpha1.RecorderSpec;
import io.tailops.api.v1alpha1.RecorderStatefulSet;
import io.tailops.api.v1alpha1.S3;
import io.tailops.controlplane.AuthKey;
import io.tailops.operator.proxy.ProxySecrets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The objects of a {@link Recorder}, as the official operator (v1.94.2, {@code tsrecorder_specs.go}) names, labels and
 * fills them: the StatefulSet running tsrecorder, its ServiceAccount, a Role and RoleBinding that let each replica
 * read and write its own state and auth-key Secrets, one auth-key Secret and one (empty, pre-created) state Secret per
 * replica. Pure: no Kubernetes, no control plane.
 */
public final class RecorderPlanner {
  /** The tsrecorder image when the Recorder names none: the release this operator is compatible with. */
  public static final String DEFAULT_IMAGE = "tailscale/tsrecorder:v1.94.2";
  /** The {@code app.kubernetes.io/name} of every Recorder object. */
  public static final String APP = "recorder";
  public static final String LABEL_NAME = "app.kubernetes.io/name";
  public static final String LABEL_INSTANCE = "app.kubernetes.io/instance";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGED_BY = "tailscale-operator";
  /** The key of an auth-key Secret. */
  public static final String AUTH_KEY = "authkey";

  private final String namespace;
  private final String loginServer;

  /**
   * @param namespace the operator namespace, where every object goes
   * @param loginServer the control server URL handed to tsrecorder ({@code TSRECORDER_LOGIN_SERVER}; empty for the
   *     default)
   */
  public RecorderPlanner(String namespace, String loginServer) {
    this.namespace = namespace;
    this.loginServer = loginServer == null ? "" : loginServer;
  }

  /** The objects for {@code r}, but the auth-key Secrets (see {@link #authSecret}). */
  public RecorderObjects plan(Recorder r) {
    int replicas = replicas(r);
    List<Secret> states = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      states.add(new SecretBuilder().withMetadata(meta(r, stateSecretName(r, i), labels(r, null), null)).build());
    }
    return new RecorderObjects(statefulSet(r), serviceAccount(r), role(r), roleBinding(r), states);
  }

  /** Number of tsrecorder replicas (1 when unset). */
  public static int replicas(Recorder r) {
    Integer n = spec(r).getReplicas();
    return n == null ? 1 : n;
  }

  /** The state Secret of replica {@code i}: {@code <name>-<i>}, also the Pod's name and its tailnet hostname. */
  public static String stateSecretName(Recorder r, int i) {
    return r.getMetadata().getName() + "-" + i;
  }

  /** The auth-key Secret of replica {@code i}: {@code <name>-auth-<i>}. */
  public static String authSecretName(Recorder r, int i) {
    return r.getMetadata().getName() + "-auth-" + i;
  }

  /** The ServiceAccount's name: the spec's, or the Recorder's name. */
  public static String serviceAccountName(Recorder r) {
    RecorderServiceAccount sa = pod(r).getServiceAccount();
    return sa == null || sa.getName() == null || sa.getName().isEmpty() ? r.getMetadata().getName() : sa.getName();
  }

  /** The tags its devices get: the spec's, or {@code tag:k8s} (not the operator's proxy tags, as upstream). */
  public static List<String> tags(Recorder r) {
    List<String> tags = spec(r).getTags();
    return tags == null || tags.isEmpty() ? List.of("tag:k8s") : List.copyOf(tags);
  }

  /** The labels every object of the Recorder carries, plus {@code custom} (which the standard ones override). */
  public static Map<String, String> labels(Recorder r, Map<String, String> custom) {
    Map<String, String> out = new LinkedHashMap<>();
    if (custom != null) {
      out.putAll(custom);
    }
    out.put(LABEL_NAME, APP);
    out.put(LABEL_INSTANCE, r.getMetadata().getName());
    out.put(LABEL_MANAGED_BY, MANAGED_BY);
    return out;
  }

  /** The label selector of every object of the Recorder named {@code name}. */
  public static Map<String, String> selector(String name) {
    return Map.of(LABEL_NAME, APP, LABEL_INSTANCE, name, LABEL_MANAGED_BY, MANAGED_BY);
  }

  /**
   * The auth-key Secret of replica {@code i} holding {@code key}, with the key's ID and expiry recorded as on proxy
   * Secrets ({@link ProxySecrets#keyAnnotations}; the official operator records neither).
   */
  public Secret authSecret(Recorder r, int i, AuthKey key) {
    return new SecretBuilder().withMetadata(meta(r, authSecretName(r, i), labels(r, null),
        ProxySecrets.keyAnnotations(key))).withStringData(Map.of(AUTH_KEY, key.secret())).build();
  }

  /** What replica {@code i}'s auth key is minted for, in its description: {@code recorder <name>-<i>}. */
  public static String keyPurpose(Recorder r, int i) {
    return "recorder " + stateSecretName(r, i);
  }

  StatefulSet statefulSet(Recorder r) {
    RecorderStatefulSet sts = spec(r).getStatefulSet() == null ? new RecorderStatefulSet() : spec(r).getStatefulSet();
    RecorderPod pod = pod(r);
    RecorderContainer c = pod.getContainer() == null ? new RecorderContainer() : pod.getContainer();
    int replicas = replicas(r);
    String name = r.getMetadata().getName();
    Map<String, String> podLabels = labels(r, pod.getLabels());
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(new VolumeMountBuilder().withName("data").withMountPath("/data").build());
    List<Volume> volumes = new ArrayList<>();
    volumes.add(new VolumeBuilder().withName("data").withNewEmptyDir().endEmptyDir().build());
    for (int i = 0; i < replicas; i++) {
      String volume = "authkey-" + i;
      mounts.add(new VolumeMountBuilder().withName(volume).withReadOnly(true)
          .withMountPath("/etc/tailscaled/" + name + "-" + i).build());
      volumes.add(new VolumeBuilder().withName(volume).withNewSecret().withSecretName(authSecretName(r, i))
          .addNewItem().withKey(AUTH_KEY).withPath(AUTH_KEY).endItem().endSecret().build());
    }
    String image = c.getImage() == null || c.getImage().isEmpty() ? DEFAULT_IMAGE : c.getImage();
    return new StatefulSetBuilder()
        .withMetadata(meta(r, name, labels(r, sts.getLabels()), emptyToNull(sts.getAnnotations())))
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector().withMatchLabels(podLabels).endSelector()
        .withNewTemplate()
        .withNewMetadata().withName(name).withNamespace(namespace).withLabels(podLabels)
        .withAnnotations(emptyToNull(pod.getAnnotations())).endMetadata()
        .withNewSpec()
        .withServiceAccountName(serviceAccountName(r))
        .withAffinity(pod.getAffinity())
        .withSecurityContext(pod.getSecurityContext())
        .withImagePullSecrets(emptyToNull(pod.getImagePullSecrets()))
        .withNodeSelector(emptyToNull(pod.getNodeSelector()))
        .withTolerations(emptyToNull(pod.getTolerations()))
        .withContainers(new ContainerBuilder()
            .withName("recorder")
            .withImage(image)
            .withImagePullPolicy(c.getImagePullPolicy() == null ? null : c.getImagePullPolicy().toString())
            .withResources(c.getResources() == null ? new ResourceRequirements() : c.getResources())
            .withSecurityContext(c.getSecurityContext())
            .withEnv(env(r))
            .withEnvFrom(envFrom(r))
            .withCommand("/tsrecorder")
            .withVolumeMounts(mounts)
            .build())
        .withVolumes(volumes)
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  List<EnvVar> env(Recorder r) {
    List<EnvVar> env = new ArrayList<>();
    env.add(new EnvVarBuilder().withName("POD_NAME").withNewValueFrom().withNewFieldRef()
        .withFieldPath("metadata.name").endFieldRef().endValueFrom().build());
    env.add(new EnvVarBuilder().withName("POD_UID").withNewValueFrom().withNewFieldRef()
        .withFieldPath("metadata.uid").endFieldRef().endValueFrom().build());
    env.add(value("TS_AUTHKEY_FILE", "/etc/tailscaled/$(POD_NAME)/authkey"));
    env.add(value("TS_STATE", "kube:$(POD_NAME)"));
    env.add(value("TSRECORDER_HOSTNAME", "$(POD_NAME)"));
    env.add(value("TSRECORDER_LOGIN_SERVER", loginServer));
    RecorderContainer c = pod(r).getContainer();
    if (c != null && c.getEnv() != null) {
      for (EnvVarConfig e : c.getEnv()) {
        env.add(value(e.getName(), e.getValue()));
      }
    }
    S3 s3 = s3(r);
    if (s3 != null) {
      env.add(value("TSRECORDER_DST", "s3://" + nullToEmpty(s3.getEndpoint())));
      env.add(value("TSRECORDER_BUCKET", s3.getBucket()));
    } else {
      env.add(value("TSRECORDER_DST", "/data/recordings"));
    }
    if (Boolean.TRUE.equals(spec(r).getEnableUI())) {
      env.add(value("TSRECORDER_UI", "true"));
    }
    return env;
  }

  private static List<EnvFromSource> envFrom(Recorder r) {
    String secret = s3CredentialsSecret(r);
    return secret == null ? null
        : List.of(new EnvFromSourceBuilder().withNewSecretRef().withName(secret).endSecretRef().build());
  }

  /** The Secret holding the S3 credentials (its keys become tsrecorder's environment), if any. */
  public static String s3CredentialsSecret(Recorder r) {
    S3 s3 = s3(r);
    if (s3 == null || s3.getCredentials() == null || s3.getCredentials().getSecret() == null) {
      return null;
    }
    String name = s3.getCredentials().getSecret().getName();
    return name == null || name.isEmpty() ? null : name;
  }

  ServiceAccount serviceAccount(Recorder r) {
    RecorderServiceAccount sa = pod(r).getServiceAccount();
    return new ServiceAccountBuilder().withMetadata(meta(r, serviceAccountName(r), labels(r, null),
        sa == null ? null : emptyToNull(sa.getAnnotations()))).build();
  }

  Role role(Recorder r) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < replicas(r); i++) {
      names.add(stateSecretName(r, i));
      names.add(authSecretName(r, i));
    }
    return new RoleBuilder().withMetadata(meta(r, r.getMetadata().getName(), labels(r, null), null))
        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                .withVerbs("get", "patch", "update").withResourceNames(names).build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("events")
                .withVerbs("get", "create", "patch").build())
        .build();
  }

  RoleBinding roleBinding(Recorder r) {
    return new RoleBindingBuilder().withMetadata(meta(r, r.getMetadata().getName(), labels(r, null), null))
        .addNewSubject().withKind("ServiceAccount").withName(serviceAccountName(r)).withNamespace(namespace)
        .endSubject()
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role")
        .withName(r.getMetadata().getName()).endRoleRef()
        .build();
  }

  private ObjectMeta meta(Recorder r, String name, Map<String, String> labels, Map<String, String> annotations) {
    return new ObjectMetaBuilder().withName(name).withNamespace(namespace).withLabels(labels)
        .withAnnotations(annotations).withOwnerReferences(ownerReference(r)).build();
  }

  /** The controller reference to the Recorder (what the garbage collector removes the objects by). */
  public static OwnerReference ownerReference(Recorder r) {
    return new OwnerReferenceBuilder().withApiVersion(r.getApiVersion()).withKind(Recorder.KIND)
        .withName(r.getMetadata().getName()).withUid(r.getMetadata().getUid()).withController(true)
        .withBlockOwnerDeletion(true).build();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value == null || value.isEmpty() ? null : value).build();
  }

  static RecorderSpec spec(Recorder r) {
    return r.getSpec() == null ? new RecorderSpec() : r.getSpec();
  }

  static RecorderPod pod(Recorder r) {
    RecorderStatefulSet sts = spec(r).getStatefulSet();
    return sts == null || sts.getPod() == null ? new RecorderPod() : sts.getPod();
  }

  static S3 s3(Recorder r) {
    return spec(r).getStorage() == null ? null : spec(r).getStorage().getS3();
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  private static <M extends Map<?, ?>> M emptyToNull(M m) {
    return m == null || m.isEmpty() ? null : m;
  }

  private static <L extends List<?>> L emptyToNull(L l) {
    return l == null || l.isEmpty() ? null : l;
  }
}
