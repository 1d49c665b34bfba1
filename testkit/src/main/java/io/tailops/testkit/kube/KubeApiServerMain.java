package io.tailops.testkit.kube;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a real API server until interrupted, for the local environment and for poking at it by hand:
 *
 * <pre>
 * java -cp testkit.jar:... io.tailops.testkit.kube.KubeApiServerMain [--controller-manager] [--audit]
 *     [--crd FILE]... [--crd-classpath RESOURCE]... [--work-dir DIR] [--kubeconfig-out FILE]
 * </pre>
 *
 * Prints {@code KUBECONFIG=<path>} (and {@code READY}) on standard output once the server is ready, then blocks;
 * Ctrl-C or SIGTERM stops every process.
 */
public final class KubeApiServerMain {

  private KubeApiServerMain() {
  }

  public static void main(String[] args) throws Exception {
    KubeApiServer.Builder b = KubeApiServer.builder();
    Path kubeconfigOut = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--controller-manager" -> b.controllerManager(true);
        case "--audit" -> b.auditLog(true);
        case "--crd" -> b.crds(Path.of(value(args, ++i, a)));
        case "--crd-classpath" -> b.crdsFromClasspath(value(args, ++i, a));
        case "--work-dir" -> b.workDir(Path.of(value(args, ++i, a)));
        case "--keep" -> b.keepWorkDir(true);
        case "--kubeconfig-out" -> kubeconfigOut = Path.of(value(args, ++i, a));
        case "-h", "--help" -> {
          System.out.println("usage: KubeApiServerMain [--controller-manager] [--audit] [--crd FILE]..."
              + " [--crd-classpath RESOURCE]... [--work-dir DIR] [--keep] [--kubeconfig-out FILE]");
          return;
        }
        default -> {
          System.err.println("unknown argument " + a + " (see --help)");
          System.exit(2);
        }
      }
    }
    KubeApiServer server = b.start(); // the class's shutdown hook closes it on exit
    Path kubeconfig = server.kubeconfig();
    if (kubeconfigOut != null) {
      Path parent = kubeconfigOut.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.copy(kubeconfig, kubeconfigOut, StandardCopyOption.REPLACE_EXISTING);
      kubeconfig = kubeconfigOut.toAbsolutePath();
    }
    System.out.println("KUBECONFIG=" + kubeconfig);
    System.out.println("API_SERVER=" + server.url());
    System.out.println("WORK_DIR=" + server.workDir());
    server.auditLog().ifPresent(al -> System.out.println("AUDIT_LOG=" + al.file()));
    System.out.println("READY");
    System.out.flush();
    new CountDownLatch(1).await();
  }

  private static String value(String[] args, int i, String flag) throws IOException {
    if (i >= args.length) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }
}
