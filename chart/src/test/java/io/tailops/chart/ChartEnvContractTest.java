package io.tailops.chart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.EnvVar;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract between the chart and the operator: every environment variable the chart gives the operator container
 * is one the operator reads ({@code operator/.../config/OperatorConfig.java}), and the values the chart renders are
 * ones the operator accepts. The operator's source is read (and its settings classes compiled in memory), so this
 * module does not depend on the operator module being built.
 */
class ChartEnvContractTest {

  /**
   * Set by the chart but not read by OperatorConfig: downward-API metadata the official chart sets too (§8.2). Keep
   * this list short and explained.
   */
  static final Map<String, String> NOT_SETTINGS = Map.of(
      "POD_UID", "the pod's UID, set as upstream; the operator does not read it (its own device container does)");

  /** Value sets that together reach every env branch of the Deployment template. */
  static Stream<Map.Entry<String, String>> valueSets() {
    Map<String, String> sets = new LinkedHashMap<>();
    sets.put("defaults", "");
    sets.put("seed HelmRelease", ChartValuesTest.SEED_VALUES);
    sets.put("oauth values", "oauth:\n  clientId: a\n  clientSecret: b\n");
    sets.put("existingSecret", "oauth:\n  existingSecret: mine\n  clientIdKey: id\n  clientSecretKey: secret\n");
    sets.put("oauthSecretVolume", "oauthSecretVolume:\n  secret:\n    secretName: x\n");
    sets.put("loginServer", "loginServer: https://ts.example.com/\n");
    sets.put("headscale", """
        controlPlane: headscale
        loginServer: https://hs.example.com
        headscale:
          apiKeySecret:
            name: hs
          approveRoutes: true
        """);
    sets.put("security", """
        controlPlane: headscale
        loginServer: http://headscale.headscale.svc:8080
        loginServerAllowHttp: true
        headscale:
          apiKeySecret:
            name: hs
        operatorConfig:
          authKeyExpiry: 2h
          device:
            statusPage: tailnet
        """);
    sets.put("everything of ours", """
        operatorConfig:
          replicas: 3
          httpPort: 9091
          orphanDevices: delete
          orphanGracePeriod: 1h30m
          logging: dev
          defaultTags: ["tag:a", "tag:b"]
          device:
            enabled: false
        funnel:
          allowedNamespaces: [web, "*"]
        proxyConfig:
          defaultProxyClass: prod
          firewallMode: iptables
        ingressClass:
          name: tailnet
        apiServerProxyConfig:
          mode: noauth
        """);
    return sets.entrySet().stream();
  }

  static Set<String> known;
  static Class<?> configClass;
  static String compileProblem;

  @BeforeAll
  static void readOperatorSource() throws Exception {
    Path source = operatorConfigSource();
    String text = Files.readString(source);
    Matcher m = Pattern.compile("\\br\\.(?:string|bool|list|intValue|duration|enumValue|enumOrWarn)\\(\\s*\"([A-Z][A-Z0-9_]*)\"")
        .matcher(text);
    known = new TreeSet<>();
    while (m.find()) {
      known.add(m.group(1));
    }
    assertThat(known).as("env vars found in %s (did its Reader methods change?)", source)
        .contains("OPERATOR_HOSTNAME", "CLIENT_ID_FILE", "OPERATOR_HTTP_PORT")
        .hasSizeGreaterThan(20);
    configClass = compile(source.getParent());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void everyVariableTheChartSetsIsOneTheOperatorReads(Map.Entry<String, String> set) {
    List<String> names = Chart.render(set.getValue()).envNames();
    List<String> unknown = names.stream()
        .filter(n -> !known.contains(n) && !NOT_SETTINGS.containsKey(n))
        .toList();
    assertThat(unknown)
        .as("env vars the chart sets (values: %s) that OperatorConfig.java does not read; it reads %s",
            set.getKey(), known)
        .isEmpty();
    assertThat(names).as("no variable is set twice").doesNotHaveDuplicates();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valueSets")
  void theOperatorAcceptsTheRenderedValues(Map.Entry<String, String> set) throws Exception {
    Rendered r = Chart.render(set.getValue());
    Object cfg = fromEnv(containerEnv(r));

    assertThat(get(cfg, "operatorHostname")).isEqualTo(valueOf(r, "OPERATOR_HOSTNAME"));
    assertThat(get(cfg, "namespace")).isEqualTo(Chart.NAMESPACE);
    assertThat(get(cfg, "proxyImage")).isEqualTo(valueOf(r, "PROXY_IMAGE"));
    assertThat(get(cfg, "ingressClassName")).isEqualTo(valueOf(r, "OPERATOR_INGRESS_CLASS_NAME"));
    assertThat(get(cfg, "httpPort")).isEqualTo(Integer.parseInt(valueOf(r, "OPERATOR_HTTP_PORT")));
    assertThat(get(cfg, "leaderElection")).isEqualTo(true);
    assertThat(get(cfg, "operatorSecret")).isEqualTo("operator");
    assertThat(get(cfg, "selfDevice")).isEqualTo(Boolean.parseBoolean(valueOf(r, "OPERATOR_SELF_DEVICE")));
    assertThat(String.join(",", list(get(cfg, "operatorInitialTags")).stream().map(String::valueOf).toList()))
        .isEqualTo(valueOf(r, "OPERATOR_INITIAL_TAGS"));
    assertThat(get(cfg, "orphanGracePeriod")).isInstanceOf(Duration.class);
  }

  @Test
  void specificSettingsArriveAsIntended() throws Exception {
    Object cfg = fromEnv(containerEnv(Chart.render(valueSets().filter(e -> e.getKey().equals("everything of ours"))
        .findFirst().orElseThrow().getValue())));
    assertThat(get(cfg, "funnelNamespaces")).isEqualTo(List.of("web", "*"));
    assertThat(get(cfg, "orphanGracePeriod")).isEqualTo(Duration.ofMinutes(90));
    assertThat(String.valueOf(get(cfg, "orphanDevicePolicy"))).isEqualTo("DELETE");
    assertThat(String.valueOf(get(cfg, "logging"))).isEqualTo("DEV");
    assertThat(get(cfg, "proxyDefaultClass")).isEqualTo("prod");
    assertThat(get(cfg, "proxyFirewallMode")).isEqualTo("iptables");
    assertThat(get(cfg, "httpPort")).isEqualTo(9091);
    assertThat(get(cfg, "selfDevice")).isEqualTo(false);
    assertThat((List<?>) get(cfg, "warnings")).anySatisfy(w -> assertThat(w.toString()).contains("APISERVER_PROXY"));

    Object hs = fromEnv(containerEnv(Chart.render(valueSets().filter(e -> e.getKey().equals("headscale"))
        .findFirst().orElseThrow().getValue())));
    assertThat(String.valueOf(get(hs, "controlPlane"))).isEqualTo("HEADSCALE");
    assertThat(String.valueOf(get(hs, "headscaleApiKeyFile"))).isEqualTo("/headscale/api-key");
    assertThat(get(hs, "loginServer")).isEqualTo("https://hs.example.com");
    assertThat(get(get(hs, "connectors"), "headscaleApproveRoutes")).isEqualTo(true);

    Object sec = get(fromEnv(containerEnv(Chart.render(valueSets().filter(e -> e.getKey().equals("security"))
        .findFirst().orElseThrow().getValue()))), "security");
    assertThat(get(sec, "loginServerAllowHttp")).isEqualTo(true);
    assertThat(String.valueOf(get(sec, "statusPage"))).isEqualTo("TAILNET");
    assertThat(get(sec, "authKeyExpiry")).isEqualTo(Duration.ofHours(2));
  }

  @Test
  void workloadIdentityIsRenderedAsUpstreamAndTheOperatorSaysItIsUnsupported() throws Exception {
    Rendered r = Chart.render("oauth:\n  clientId: k1\n  audience: aud\n");
    assertThat(r.envNames()).contains("CLIENT_ID");
    assertThat(known).contains("CLIENT_ID");
    Map<String, String> env = containerEnv(r);
    assertThatThrownBy(() -> fromEnv(env)).hasMessageContaining("CLIENT_ID");
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static Path operatorConfigSource() {
    String p = System.getProperty("operator.config.source");
    Path source = p != null && !p.isBlank() ? Path.of(p.trim())
        : Path.of("../operator/src/main/java/io/tailops/operator/config/OperatorConfig.java");
    assertThat(source).as("the operator's settings source").isRegularFile();
    return source;
  }

  /** The operator container's env as the kubelet would resolve it for a pod in namespace tailscale. */
  static Map<String, String> containerEnv(Rendered r) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : r.operatorContainer().getEnv()) {
      String value = e.getValue();
      if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        value = switch (e.getValueFrom().getFieldRef().getFieldPath()) {
          case "metadata.namespace" -> Chart.NAMESPACE;
          case "metadata.name" -> "operator-5d8f7c9b6d-x2k4q";
          case "metadata.uid" -> "6f1f3c9e-0d2a-4b8e-9a57-2f6b1c0d4e11";
          default -> throw new AssertionError("unexpected fieldRef " + e.getValueFrom().getFieldRef().getFieldPath());
        };
      }
      env.put(e.getName(), value == null ? "" : value);
    }
    return env;
  }

  static String valueOf(Rendered r, String name) {
    return r.env().get(name);
  }

  static Object fromEnv(Map<String, String> env) throws Exception {
    Assumptions.assumeTrue(configClass != null,
        () -> "OperatorConfig could not be compiled on its own, so only the variable names were checked: "
            + compileProblem);
    Method m = configClass.getMethod("fromEnv", Map.class);
    try {
      return m.invoke(null, env);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception ex) {
        throw ex;
      }
      throw e;
    }
  }

  static Object get(Object record, String accessor) throws Exception {
    return record.getClass().getMethod(accessor).invoke(record);
  }

  @SuppressWarnings("unchecked")
  static List<Object> list(Object o) {
    return (List<Object>) o;
  }

  /**
   * Compiles the operator's config package (JDK-only classes) into a temporary directory and loads
   * OperatorConfig. Returns null (and records why) when that is not possible, e.g. once the package depends on other
   * operator classes.
   */
  static Class<?> compile(Path packageDir) {
    try {
      JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
      if (javac == null) {
        compileProblem = "no system Java compiler (running on a JRE?)";
        return null;
      }
      Path out = Files.createTempDirectory("operator-config-classes");
      List<String> args = new ArrayList<>(List.of("-d", out.toString(), "-proc:none", "-nowarn",
          "-cp", System.getProperty("java.class.path")));
      try (Stream<Path> files = Files.list(packageDir)) {
        files.filter(f -> f.toString().endsWith(".java")).map(Path::toString).forEach(args::add);
      }
      java.io.ByteArrayOutputStream errors = new java.io.ByteArrayOutputStream();
      int rc = javac.run(null, errors, errors, args.toArray(String[]::new));
      if (rc != 0) {
        compileProblem = errors.toString(java.nio.charset.StandardCharsets.UTF_8);
        return null;
      }
      URLClassLoader loader = new URLClassLoader(new URL[] {out.toUri().toURL()},
          ChartEnvContractTest.class.getClassLoader());
      return loader.loadClass("io.tailops.operator.config.OperatorConfig");
    } catch (IOException | ClassNotFoundException e) {
      compileProblem = e.toString();
      return null;
    }
  }
}
