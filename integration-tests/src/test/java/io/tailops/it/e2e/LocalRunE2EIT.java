package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.local.LocalRun;
import io.tailops.testkit.podrunner.PodNetwork;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import picocli.CommandLine;

/**
 * The README's run command on the real stack ({@code bash tools/local-run.sh --exit-when-ready}, here in-process): it
 * applies the seed guide's examples, serves them from local backends, prints a working {@code curl} through the
 * tailnet client for each, and one from the cluster to the tailnet client through the egress example, checks every
 * one, exits 0, and leaves nothing behind.
 */
@ExtendWith(RealTailnet.class)
class LocalRunE2EIT {

  @Test
  void runCommandExposesEveryExampleAndPrintsWorkingCurls() throws Exception {
    RealTailnet.requireKernelMode(); // the examples include Services
    Path examples = Path.of("..", "examples").toAbsolutePath().normalize();
    assertThat(examples.resolve("method1-expose-service.yaml")).exists();
    Path work = Files.createTempDirectory(Path.of("target"), "local-run-");
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int code;
    try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      code = new CommandLine(new LocalRun(out)).execute("--exit-when-ready", "--examples", examples.toString(),
          "--work-dir", work.toString(), "--timeout", "PT240S");
    }
    String output = buf.toString(StandardCharsets.UTF_8);
    assertThat(code).as(output).isZero();
    assertThat(output).contains("added tailscale.com/http: \"true\" to the Ingresses my-dashboard/my-dashboard, "
        + "my-namespace/my-public-app");
    assertThat(output).doesNotContain("NOT answering");
    List<String> curls = output.lines().filter(l -> l.strip().startsWith("curl --proxy http://127.0.0.1:")).toList();
    assertThat(curls).hasSize(6);
    assertThat(String.join("\n", curls)).contains("http://my-service.tailnet.test:8080/",
        "http://my-lb-service.tailnet.test:80/", "http://my-dashboard.tailnet.test/",
        "http://my-public-app.tailnet.test/", "http://my-public-service.tailnet.test:443/", "http://10.244.");
    // the run's Connector: a subnet router for the pod network, in the table, its route approved by the operator
    assertThat(output).containsPattern("Connector local-subnet-router +local-subnet-router-connector\\.tailnet\\.test"
        + " +100\\.64\\.[0-9.]+, fd7a:[0-9a-f:]+ +ConnectorCreated \\(routes 10\\.244\\.[0-9]+\\.0/24\\)");
    assertThat(output).contains("EXTERNAL-IP 100.64.");
    // the egress example: the tailnet client's page reached from the cluster through the egress proxy pod
    assertThat(output).containsPattern("Service egress-demo/tailnet-client \\(egress\\) +-> e2e-client\\.tailnet\\.test"
        + " +10\\.244\\.\\d+\\.\\d+ +ProxyCreated");
    assertThat(output.lines().filter(l -> l.strip().matches("curl http://10\\.244\\.\\d+\\.\\d+:80/")).toList())
        .hasSize(1);
    // a second pod network slot was used and is gone again
    assertThat(output).contains("pod network tsop");
    String bridge = output.lines().filter(l -> l.contains("pod network tsop")).findFirst().orElseThrow()
        .replaceAll(".*pod network (tsop\\d+br).*", "$1");
    assertThat(PodNetwork.probe().bridge()).isTrue();
    assertThat(new String(new ProcessBuilder("ip", "-o", "link", "show").start().getInputStream().readAllBytes(),
        StandardCharsets.UTF_8)).doesNotContain(bridge + ":");
    try (var files = Files.walk(work)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
