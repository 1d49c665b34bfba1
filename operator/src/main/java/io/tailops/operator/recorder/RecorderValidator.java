package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderServiceAccount;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What the official operator rejects in a Recorder ({@code RecorderReconciler.validate}, v1.94.2), with its messages:
 * recordings that nobody could reach (neither the UI nor S3), several replicas without S3, a custom ServiceAccount
 * name taken by a ServiceAccount this Recorder does not own, and annotation keys the API server would refuse.
 */
public final class RecorderValidator {
  private static final Pattern NAME_PART = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  private static final long MAX_ANNOTATIONS_BYTES = 256 * 1024;

  private RecorderValidator() {
  }

  /**
   * The reason {@code r} cannot be deployed, or empty.
   *
   * @param existingServiceAccount the ServiceAccount already named as the spec's custom one, if it exists
   */
  public static Optional<String> problem(Recorder r, Optional<ServiceAccount> existingServiceAccount) {
    boolean ui = Boolean.TRUE.equals(RecorderPlanner.spec(r).getEnableUI());
    boolean s3 = RecorderPlanner.s3(r) != null;
    if (!ui && !s3) {
      return Optional.of("must either enable UI or use S3 storage to ensure recordings are accessible");
    }
    Integer replicas = RecorderPlanner.spec(r).getReplicas();
    if (replicas != null && replicas > 1 && !s3) {
      return Optional.of("must use S3 storage when using multiple replicas to ensure recordings are accessible");
    }
    String sa = RecorderPlanner.serviceAccountName(r);
    if (!sa.equals(r.getMetadata().getName()) && existingServiceAccount.isPresent()
        && !ownedBy(existingServiceAccount.get(), r)) {
      return Optional.of(conflict(existingServiceAccount.get()));
    }
    RecorderServiceAccount spec = RecorderPlanner.pod(r).getServiceAccount();
    if (spec != null && spec.getAnnotations() != null && !spec.getAnnotations().isEmpty()) {
      return annotationProblem(spec.getAnnotations());
    }
    return Optional.empty();
  }

  /** The message when a custom ServiceAccount name is taken by somebody else's ServiceAccount. */
  static String conflict(ServiceAccount sa) {
    return "custom ServiceAccount name \"" + sa.getMetadata().getName() + "\" specified but conflicts with a "
        + "pre-existing ServiceAccount in the " + sa.getMetadata().getNamespace() + " namespace";
  }

  /** Whether {@code sa} carries this Recorder's controller reference (and nothing else as owner). */
  static boolean ownedBy(ServiceAccount sa, Recorder r) {
    List<OwnerReference> refs = sa.getMetadata().getOwnerReferences();
    return refs != null && refs.size() == 1 && r.getMetadata().getUid() != null
        && r.getMetadata().getUid().equals(refs.get(0).getUid())
        && Boolean.TRUE.equals(refs.get(0).getController());
  }

  static Optional<String> annotationProblem(Map<String, String> annotations) {
    String path = ".spec.statefulSet.pod.serviceAccount.annotations";
    long size = 0;
    for (Map.Entry<String, String> e : annotations.entrySet()) {
      String key = e.getKey();
      size += key.length() + (e.getValue() == null ? 0 : e.getValue().length());
      String keyProblem = qualifiedNameProblem(key);
      if (keyProblem != null) {
        return Optional.of(path + ": Invalid value: \"" + key + "\": " + keyProblem);
      }
    }
    if (size > MAX_ANNOTATIONS_BYTES) {
      return Optional.of(path + ": Too long: must have at most " + MAX_ANNOTATIONS_BYTES + " bytes");
    }
    return Optional.empty();
  }

  /** Why {@code key} is not a qualified name ({@code [prefix/]name}), or null. */
  static String qualifiedNameProblem(String key) {
    String name = key;
    int slash = key.indexOf('/');
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      name = key.substring(slash + 1);
      if (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches()) {
        return "prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters";
      }
      if (name.contains("/")) {
        return "a qualified name must consist of an optional DNS subdomain prefix and a name, separated by '/'";
      }
    }
    if (name.isEmpty() || name.length() > 63 || !NAME_PART.matcher(name).matches()) {
      return "name part must consist of at most 63 alphanumeric characters, '-', '_' or '.', and must start and end "
          + "with an alphanumeric character";
    }
    return null;
  }
}
