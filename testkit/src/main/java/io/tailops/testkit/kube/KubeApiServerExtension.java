package io.tailops.testkit.kube;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * JUnit 5 extension: one real API server per test class (started before the first test, closed after the last), or
 * one per JVM shared by every class that asks for it with {@link #sharedPerJvm()}.
 *
 * <pre>{@code
 * class MyTest {
 *   @RegisterExtension
 *   static final KubeApiServerExtension KUBE = new KubeApiServerExtension(b -> b
 *       .controllerManager(true)
 *       .auditLog(true)
 *       .crdsFromClasspath("META-INF/fabric8/proxyclasses.tailscale.com-v1.yml"));
 *
 *   @Test
 *   void works(KubernetesClient client) {   // or KUBE.client(); KubeApiServer parameters are resolved too
 *     client.namespaces().resource(...).create();
 *   }
 * }
 * }</pre>
 *
 * <p>Register it on a {@code static} field; {@code @Nested} classes use their enclosing class's server. Logs, certificates and kubeconfigs go to
 * {@code target/kube-api-server/<TestClass>-<n>/} when the working folder has a {@code target} folder (Maven), so
 * they survive a failed run; otherwise to a temporary folder that is deleted. etcd's data is always deleted.
 */
public final class KubeApiServerExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
    ParameterResolver {

  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(KubeApiServerExtension.class);

  private final KubeApiServer.Builder builder;
  private boolean shared;
  private KubeApiServer server;
  private boolean ownsServer;
  private int depth;

  /** Default settings: API server and etcd only. */
  public KubeApiServerExtension() {
    this(b -> b);
  }

  /** Settings: {@code new KubeApiServerExtension(b -> b.controllerManager(true))}. */
  public KubeApiServerExtension(UnaryOperator<KubeApiServer.Builder> settings) {
    this.builder = settings.apply(KubeApiServer.builder());
  }

  /**
   * Share one server between every test class in this JVM that uses a shared extension (the first one's settings
   * win; it is closed when the test run ends). Tests on a shared server must not restart or break it and should
   * work in their own namespaces.
   */
  public KubeApiServerExtension sharedPerJvm() {
    this.shared = true;
    return this;
  }

  /** The running server (between beforeAll and afterAll). */
  public KubeApiServer server() {
    if (server == null) {
      throw new IllegalStateException("the API server is not running: register KubeApiServerExtension on a static "
          + "field with @RegisterExtension, and use it from tests or @BeforeAll/@BeforeEach methods");
    }
    return server;
  }

  /** The shared admin client of the running server. */
  public KubernetesClient client() {
    return server().client();
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    if (depth++ > 0) {
      return; // a @Nested class of the class that started the server: share it
    }
    if (shared) {
      Holder h = context.getRoot().getStore(NS).computeIfAbsent("shared", k -> new Holder(start("shared")),
          Holder.class);
      server = h.server;
      ownsServer = false;
    } else {
      server = start(context.getRequiredTestClass().getSimpleName());
      ownsServer = true;
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    server(); // fails with a clear message if registered on an instance field
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (--depth > 0) {
      return;
    }
    if (server != null && ownsServer) {
      server.close();
    }
    server = null;
  }

  @Override
  public boolean supportsParameter(ParameterContext pc, ExtensionContext ec) {
    Class<?> t = pc.getParameter().getType();
    return t == KubernetesClient.class || t == KubeApiServer.class;
  }

  @Override
  public Object resolveParameter(ParameterContext pc, ExtensionContext ec) {
    return pc.getParameter().getType() == KubeApiServer.class ? server() : client();
  }

  private KubeApiServer start(String name) {
    KubeApiServer.Builder b = builder;
    Path target = Path.of("target");
    if (!b.hasWorkDir() && Files.isDirectory(target)) {
      try {
        Path parent = Files.createDirectories(target.resolve("kube-api-server"));
        b = b.copy().workDir(Files.createTempDirectory(parent, name + "-"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return b.start();
  }

  private record Holder(KubeApiServer server) implements AutoCloseable {
    @Override
    public void close() {
      server.close();
    }
  }
}
