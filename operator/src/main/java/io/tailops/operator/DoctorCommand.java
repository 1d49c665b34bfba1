package io.tailops.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.ConfigException;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.runtime.ControlPlanes;
import io.tailops.operator.runtime.Logging;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code doctor}: checks everything the seed guide's troubleshooting section asks users to check by hand. */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Check credentials, scopes, tags, policy, the IngressClass and every proxy; print one line per "
        + "check with the fix. Exits 1 if any check fails.")
final class DoctorCommand implements Callable<Integer> {
  @CommandLine.Mixin
  Main.ClusterOptionsMixin cluster;

  @Option(names = {"-o", "--output"}, description = "text (default) or json")
  String output = "text";

  @Option(names = "--no-mint-test-key", description = "do not prove that the proxy tags can be minted (by creating "
      + "and at once revoking an auth key)")
  boolean noMint;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Map<String, String> env = cluster.options.environment();
    env.putIfAbsent("OPERATOR_LOG_FORMAT", "plain");
    OperatorConfig config;
    try {
      config = OperatorConfig.fromEnv(env);
    } catch (ConfigException e) {
      spec.commandLine().getErr().println("FAIL settings: " + e.getMessage().replace("\n", "\nFAIL settings: "));
      return 1;
    }
    Logging.configure(OperatorConfig.LogMode.INFO, OperatorConfig.LogFormat.PLAIN);
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.tailops"))
        .setLevel(ch.qos.logback.classic.Level.WARN);
    ControlPlane cp = ControlPlanes.create(config, null);
    List<Doctor.Check> checks;
    try (KubernetesClient client = cluster.options.kubernetesClient()) {
      checks = io.tailops.operator.runtime.DoctorChecks.doctor(config, client, cp, !noMint).run();
    }
    spec.commandLine().getOut().print("json".equalsIgnoreCase(output) ? Doctor.json(checks) + "\n"
        : Doctor.text(checks));
    spec.commandLine().getOut().flush();
    return Doctor.failed(checks) ? 1 : 0;
  }
}
