package io.tailops.operator.doctor;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.AuthKeys;
import io.tailops.operator.proxy.ReplicaState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks, against the live cluster and control plane, everything the seed guide's troubleshooting section asks users
 * to check by hand: credentials present and not {@code REPLACE_ME}; a token can be obtained; the scopes suffice; the
 * proxy tags can be minted; the policy's {@code tagOwners} lets the operator tag own the proxy tags; {@code nodeAttrs}
 * grants {@code funnel} when Funnel is used; the IngressClass; each proxy's state; and objects of kinds this operator
 * does not implement yet. One result per check, each with the fix.
 */
public final class Doctor {
  /** Outcome of a check. */
  public enum Status {
    OK, WARN, FAIL
  }

  /** One check: what was checked, the outcome, what was found, and how to fix it (empty when ok). */
  public record Check(String name, Status status, String detail, String fix) {
    static Check ok(String name, String detail) {
      return new Check(name, Status.OK, detail, "");
    }

    static Check warn(String name, String detail, String fix) {
      return new Check(name, Status.WARN, detail, fix);
    }

    static Check fail(String name, String detail, String fix) {
      return new Check(name, Status.FAIL, detail, fix);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final OperatorConfig config;
  private final KubernetesClient client;
  private final ControlPlane controlPlane;
  private final boolean mintTestKey;

  /**
   * @param mintTestKey whether to prove that the proxy tags can be minted by creating (and at once revoking) a
   *     short-lived auth key
   */
  /**
   * The settings the operator accepted with a warning (values the official chart passes on, such as an unknown
   * OPERATOR_LOGGING or a login server without a scheme): one WARN check each, so that doctor says what the start-up
   * log said.
   */
  public static List<Check> settings(OperatorConfig config) {
    return config.warnings().stream().map(w -> Check.warn("settings", w,
        "set the value named here in the chart values (or the environment variable) to one the message accepts"))
        .toList();
  }

  /**
   * Checks that a feature contributes (a kind's objects, a component's state). Contributions are wired in by the
   * runtime ({@code runtime.DoctorChecks}), so that this package does not depend on the features it reports on.
   */
  @FunctionalInterface
  public interface Source {
    List<Check> checks(KubernetesClient client);
  }

  private final List<Source> sources;

  public Doctor(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane, boolean mintTestKey) {
    this(config, client, controlPlane, mintTestKey, List.of());
  }

  /** @param sources the features' own checks, run after the standard ones when a cluster is reachable */
  public Doctor(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane, boolean mintTestKey,
      List<Source> sources) {
    this.config = config;
    this.client = client;
    this.controlPlane = controlPlane;
    this.mintTestKey = mintTestKey;
    this.sources = List.copyOf(sources);
  }

  public List<Check> run() {
    List<Check> checks = new ArrayList<>(settings(config));
    keySweep(controlPlane.capabilities()).ifPresent(checks::add);
    boolean credentialsOk = true;
    if (config.controlPlane() == OperatorConfig.ControlPlaneKind.TAILSCALE) {
      Check files = credentialFiles();
      checks.add(files);
      credentialsOk = files.status() != Status.FAIL;
    }
    boolean tokenOk = false;
    if (credentialsOk) {
      Check token = token();
      checks.add(token);
      tokenOk = token.status() == Status.OK;
    }
    List<Device> devices = null;
    if (tokenOk) {
      try {
        devices = controlPlane.listDevices();
        checks.add(Check.ok("scope devices", "devices can be listed (" + devices.size() + " in the tailnet)"));
      } catch (ControlPlaneException e) {
        checks.add(Check.fail("scope devices", "listing devices failed: " + e.userMessage(),
            "give the OAuth client the devices:core scope (write), which the operator needs to delete proxy devices"));
      }
      if (mintTestKey) {
        checks.add(proxyTags());
      }
    }
    Optional<TailnetPolicy> policy = Optional.empty();
    if (tokenOk) {
      Check pc = policyCheck();
      checks.add(pc);
      if (pc.status() == Status.OK || pc.name().equals("policy tagOwners") && pc.status() == Status.FAIL) {
        try {
          policy = Optional.of(controlPlane.readPolicy());
        } catch (ControlPlaneException e) {
          policy = Optional.empty();
        }
      }
    }
    if (client != null) {
      checks.add(funnel(policy, tokenOk));
      checks.add(ingressClass());
      checks.addAll(proxies(devices));
      for (Source source : sources) {
        checks.addAll(source.checks(client));
      }
    }
    return checks;
  }

  /**
   * A WARN when the control plane makes the unused-key sweep a no-op ({@link AuthKeys#sweepOff}); nothing when the
   * sweep works (it needs no check of its own).
   */
  static Optional<Check> keySweep(ControlPlane.Capabilities caps) {
    return AuthKeys.sweepOff(caps).map(why -> Check.warn("key sweep", "off: " + why, "nothing the operator can "
        + "do; keep OPERATOR_AUTH_KEY_EXPIRY short (default 30m), and after an operator crash look for unused "
        + "pre-auth keys with the proxy tags and expire them by hand (headscale preauthkeys list / "
        + "expire)"));
  }

  private Check credentialFiles() {
    for (Path p : new Path[] {config.clientIdFile(), config.clientSecretFile()}) {
      if (p == null) {
        return Check.fail("credentials", "CLIENT_ID_FILE / CLIENT_SECRET_FILE are not set",
            "install with the Helm chart (it mounts the operator-oauth Secret) or set both variables");
      }
      try {
        if (!Files.isReadable(p)) {
          return Check.fail("credentials", p + " does not exist or cannot be read",
              "create the operator-oauth Secret in namespace " + config.namespace() + " with keys client_id and "
                  + "client_secret");
        }
        String v = Files.readString(p, StandardCharsets.UTF_8).trim();
        if (v.isEmpty()) {
          return Check.fail("credentials", p + " is empty", "kubectl patch secret operator-oauth -n "
              + config.namespace() + " with the real values (see README, Applying credentials)");
        }
        if (v.equals("REPLACE_ME")) {
          return Check.fail("credentials", p + " still holds the placeholder REPLACE_ME",
              "kubectl patch secret operator-oauth -n " + config.namespace() + " --type=json -p '[{\"op\":\"replace\","
                  + "\"path\":\"/data/client_id\",\"value\":\"<base64>\"},{\"op\":\"replace\",\"path\":"
                  + "\"/data/client_secret\",\"value\":\"<base64>\"}]' (no restart needed)");
        }
      } catch (Exception e) {
        return Check.fail("credentials", "cannot read " + p + ": " + e.getMessage(), "check the Secret mount");
      }
    }
    return Check.ok("credentials", "client ID and secret files are present");
  }

  private Check token() {
    try {
      controlPlane.checkCredentials();
      return Check.ok("token", controlPlane.capabilities().name() + " accepted the credentials");
    } catch (ControlPlaneException e) {
      return switch (e.kind()) {
        case UNAUTHORIZED -> Check.fail("token", e.userMessage(), "generate a new OAuth client at "
            + "https://login.tailscale.com/admin/settings/oauth (scopes devices:core and auth_keys, tag "
            + String.join(",", config.operatorInitialTags()) + ") and patch the operator-oauth Secret");
        case FORBIDDEN -> Check.fail("token", e.userMessage(), "give the OAuth client the auth_keys scope (write)");
        case CREDENTIALS_UNAVAILABLE -> Check.fail("token", e.userMessage(), "fix the operator-oauth Secret");
        default -> Check.fail("token", e.userMessage(), "check that the control plane ("
            + (config.loginServer().isEmpty() ? "https://api.tailscale.com" : config.loginServer())
            + ") is reachable from the operator pod");
      };
    }
  }

  private Check proxyTags() {
    // The test key is stored nowhere and revoked at once. It carries no installation mark (the operator derives the
    // mark from its namespace at start-up; doctor, run from anywhere, does not), so the key sweep never judges it: if
    // the revocation fails or doctor dies first, it lives its 5 minutes, which is no longer than the sweep's default
    // grace period (OPERATOR_UNUSED_KEY_GRACE_PERIOD), so the sweep could not have revoked it sooner anyway.
    try {
      AuthKey key = controlPlane.createAuthKey(new AuthKeyRequest(config.proxyTags(), false, true, true,
          "tailscale-operator doctor").withExpiry(java.time.Duration.ofMinutes(5)));
      try {
        controlPlane.deleteAuthKey(key.id());
      } catch (ControlPlaneException e) {
        // the key expires anyway; nothing to report
      }
      return Check.ok("proxy tags", "an auth key with " + config.proxyTags() + " can be minted (test key revoked)");
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.TAG_NOT_PERMITTED) {
        return Check.fail("proxy tags", e.userMessage(), "in the tailnet policy, make "
            + String.join(",", config.operatorInitialTags()) + " an owner of " + config.proxyTags()
            + " (\"tagOwners\": {\"" + config.proxyTags().get(0) + "\": [\"" + config.operatorInitialTags().get(0)
            + "\"]}), and give the OAuth client the tag " + config.operatorInitialTags().get(0));
      }
      if (e.kind() == ControlPlaneException.Kind.FORBIDDEN) {
        return Check.fail("proxy tags", e.userMessage(), "give the OAuth client the auth_keys scope (write)");
      }
      return Check.fail("proxy tags", e.userMessage(), "retry; the control plane did not answer");
    }
  }

  private Check policyCheck() {
    TailnetPolicy policy;
    try {
      policy = controlPlane.readPolicy();
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.FORBIDDEN || e.kind() == ControlPlaneException.Kind.UNSUPPORTED) {
        return Check.warn("policy tagOwners", "the tailnet policy cannot be read (" + (e.status() > 0 ? "HTTP "
            + e.status() + ": " : "") + (e.serverMessage() == null ? e.getMessage() : e.serverMessage()) + ")",
            "optional: give the OAuth client the policy_file:read scope so that doctor can check tagOwners and "
                + "nodeAttrs");
      }
      return Check.warn("policy tagOwners", "reading the tailnet policy failed: " + e.userMessage(), "retry later");
    }
    List<String> problems = new ArrayList<>();
    for (String tag : config.proxyTags()) {
      if (!policy.defines(tag)) {
        problems.add(tag + " is not defined in tagOwners");
      } else if (config.operatorInitialTags().stream().noneMatch(op -> policy.tagOwnedBy(tag, op))) {
        problems.add(tag + " is not owned by " + config.operatorInitialTags());
      }
    }
    for (String op : config.operatorInitialTags()) {
      if (!policy.defines(op)) {
        problems.add(op + " (the operator's tag) is not defined in tagOwners");
      }
    }
    if (!problems.isEmpty()) {
      return Check.fail("policy tagOwners", String.join("; ", problems), "add to the policy: \"tagOwners\": {\""
          + config.operatorInitialTags().get(0) + "\": [], \"" + config.proxyTags().get(0) + "\": [\""
          + config.operatorInitialTags().get(0) + "\"]}");
    }
    return Check.ok("policy tagOwners", config.operatorInitialTags() + " owns " + config.proxyTags());
  }

  private Check funnel(Optional<TailnetPolicy> policy, boolean tokenOk) {
    List<String> users = new ArrayList<>();
    try {
      for (Ingress i : client.network().v1().ingresses().inAnyNamespace().list().getItems()) {
        if (i.getMetadata().getAnnotations() != null
            && "true".equals(i.getMetadata().getAnnotations().get(TailscaleKeys.FUNNEL))) {
          users.add("Ingress " + i.getMetadata().getNamespace() + "/" + i.getMetadata().getName());
        }
      }
      for (Service s : client.services().inAnyNamespace().list().getItems()) {
        if (s.getMetadata().getAnnotations() != null
            && "true".equals(s.getMetadata().getAnnotations().get(TailscaleKeys.FUNNEL))) {
          users.add("Service " + s.getMetadata().getNamespace() + "/" + s.getMetadata().getName());
        }
      }
    } catch (KubernetesClientException e) {
      return Check.warn("funnel", "cannot list Ingresses and Services: " + e.getMessage(), "check RBAC");
    }
    if (users.isEmpty()) {
      return Check.ok("funnel", "no resource uses Funnel");
    }
    if (!controlPlane.capabilities().funnel()) {
      return Check.fail("funnel", users + " ask for Funnel, which " + controlPlane.capabilities().name()
          + " does not offer", "remove tailscale.com/funnel from them");
    }
    if (policy.isEmpty()) {
      return Check.warn("funnel", users.size() + " resource(s) use Funnel, but the policy could not be read to check "
          + "nodeAttrs, so whether they are public is not known", "give the OAuth client the policy_file:read scope so "
          + "the operator can check it, and make sure the policy has \"nodeAttrs\": [{\"target\": [\""
          + config.proxyTags().get(0) + "\"], \"attr\": [\"funnel\"]}]");
    }
    if (!policy.get().grantsAttr(config.proxyTags(), "funnel")) {
      return Check.fail("funnel", users + " use Funnel but nodeAttrs does not grant \"funnel\" to "
          + config.proxyTags() + " (Funnel would be refused with a permission error)", "add to the policy: "
          + "\"nodeAttrs\": [{\"target\": [\"" + config.proxyTags().get(0) + "\"], \"attr\": [\"funnel\"]}]");
    }
    return Check.ok("funnel", "nodeAttrs grants funnel to " + config.proxyTags() + " (" + users.size() + " users)");
  }

  private Check ingressClass() {
    try {
      IngressClass ic = client.network().v1().ingressClasses().withName(config.ingressClassName()).get();
      if (ic == null) {
        return Check.fail("ingressclass", "IngressClass " + config.ingressClassName() + " does not exist",
            "install the chart with ingressClass.enabled=true");
      }
      if (!TailscaleKeys.INGRESS_CONTROLLER.equals(ic.getSpec().getController())) {
        return Check.fail("ingressclass", "IngressClass " + config.ingressClassName() + " has controller "
            + ic.getSpec().getController(), "set spec.controller to " + TailscaleKeys.INGRESS_CONTROLLER);
      }
      return Check.ok("ingressclass", "IngressClass " + config.ingressClassName() + " is served by this operator");
    } catch (KubernetesClientException e) {
      return Check.warn("ingressclass", "cannot read IngressClasses: " + e.getMessage(), "check RBAC");
    }
  }

  private List<Check> proxies(List<Device> devices) {
    List<Check> out = new ArrayList<>();
    List<Secret> secrets;
    try {
      secrets = client.secrets().inNamespace(config.namespace()).withLabel(TailscaleKeys.LABEL_MANAGED, "true")
          .list().getItems();
    } catch (KubernetesClientException e) {
      out.add(Check.warn("proxies", "cannot list proxy Secrets in " + config.namespace() + ": " + e.getMessage(),
          "check RBAC"));
      return out;
    }
    Map<String, Device> byId = new HashMap<>();
    if (devices != null) {
      devices.forEach(d -> byId.put(d.nodeId(), d));
    }
    if (secrets.isEmpty()) {
      out.add(Check.ok("proxies", "no proxies yet"));
    }
    for (ReplicaState replica : ReplicaState.pair(secrets)) {
      Secret s = replica.secret() != null ? replica.secret() : replica.config();
      Map<String, String> labels = s.getMetadata().getLabels();
      String ns = labels.getOrDefault(TailscaleKeys.LABEL_PARENT_NAMESPACE, "");
      String parent = labels.get(TailscaleKeys.LABEL_PARENT_TYPE) + " " + (ns.isEmpty() ? "" : ns + "/")
          + labels.get(TailscaleKeys.LABEL_PARENT_NAME);
      String name = "proxy " + parent;
      String id = replica.knownDeviceId();
      String wanted = replica.configuredHostname();
      if (id == null || id.isEmpty()) {
        out.add(Check.warn(name, "the proxy " + replica.secretName() + " has not logged in yet",
            "wait for the pod; if it stays so, kubectl logs -n " + config.namespace() + " " + replica.secretName()));
        continue;
      }
      if (devices != null && !byId.containsKey(id)) {
        out.add(Check.fail(name, "its device " + id + " no longer exists in the tailnet (logged out)",
            "nothing to do by hand: the operator re-registers it (see the events of the " + parent + ")"));
        continue;
      }
      Device d = byId.get(id);
      if (d != null && wanted != null && !wanted.equalsIgnoreCase(d.dnsLabel())) {
        Optional<Device> holder = devices.stream().filter(x -> !x.nodeId().equals(id)
            && wanted.equalsIgnoreCase(x.dnsLabel())).findFirst();
        out.add(Check.warn(name, "its device is " + d.dnsLabel() + " instead of " + wanted + holder.map(h -> "; "
            + h.name() + " (" + h.nodeId() + ", tags " + h.tags() + ") holds the name").orElse(""),
            "the operator replaces stale devices of its own; otherwise delete or rename the other device"));
        continue;
      }
      out.add(Check.ok(name, "device " + (d == null ? id : d.name() + " " + d.addresses())));
    }
    // Every parent asked to be served, with or without a proxy, is a feature's source (runtime.ParentReport).
    return out;
  }

  /** One line per check: {@code ok|warn|FAIL  name: detail} and an indented fix. */
  public static String text(List<Check> checks) {
    StringBuilder b = new StringBuilder();
    for (Check c : checks) {
      b.append(switch (c.status()) {
        case OK -> "ok   ";
        case WARN -> "warn ";
        case FAIL -> "FAIL ";
      }).append(c.name()).append(": ").append(c.detail()).append('\n');
      if (!c.fix().isEmpty()) {
        b.append("     fix: ").append(c.fix()).append('\n');
      }
    }
    long fails = checks.stream().filter(c -> c.status() == Status.FAIL).count();
    long warns = checks.stream().filter(c -> c.status() == Status.WARN).count();
    b.append(checks.size()).append(" checks: ").append(fails).append(" failed, ").append(warns).append(" warnings\n");
    return b.toString();
  }

  public static String json(List<Check> checks) {
    ObjectNode root = JSON.createObjectNode();
    ArrayNode arr = root.putArray("checks");
    for (Check c : checks) {
      ObjectNode n = arr.addObject();
      n.put("name", c.name());
      n.put("status", c.status().name().toLowerCase());
      n.put("detail", c.detail());
      if (!c.fix().isEmpty()) {
        n.put("fix", c.fix());
      }
    }
    ObjectNode summary = root.putObject("summary");
    summary.put("ok", checks.stream().filter(c -> c.status() == Status.OK).count());
    summary.put("warn", checks.stream().filter(c -> c.status() == Status.WARN).count());
    summary.put("fail", checks.stream().filter(c -> c.status() == Status.FAIL).count());
    return root.toPrettyString();
  }

  public static boolean failed(List<Check> checks) {
    return checks.stream().anyMatch(c -> c.status() == Status.FAIL);
  }
}
