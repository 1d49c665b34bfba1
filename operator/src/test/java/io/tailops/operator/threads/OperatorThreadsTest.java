package io.tailops.operator.threads;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.impl.BaseClient;
import io.javaoperatorsdk.operator.Operator;
import io.tailops.operator.config.ThreadSettings;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The operator's pools: bounded, named, and free of the deadlocks a bound could bring. */
class OperatorThreadsTest {
  @Test
  void aBoundedPoolRunsAtMostItsThreadsQueuesTheRestAndLetsIdleThreadsEnd() throws Exception {
    ThreadPoolExecutor pool = OperatorThreads.bounded("work", 2);
    try {
      AtomicInteger running = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      Set<String> names = ConcurrentHashMap.newKeySet();
      CountDownLatch done = new CountDownLatch(20);
      for (int i = 0; i < 20; i++) {
        pool.execute(() -> {
          most.accumulateAndGet(running.incrementAndGet(), Math::max);
          names.add(Thread.currentThread().getName());
          try {
            Thread.sleep(5);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          running.decrementAndGet();
          done.countDown();
        });
      }
      assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(most.get()).isEqualTo(2);
      assertThat(names).containsExactlyInAnyOrder("work-1", "work-2");
      assertThat(pool.allowsCoreThreadTimeOut()).isTrue();
      assertThat(pool.getKeepAliveTime(TimeUnit.SECONDS)).isEqualTo(OperatorThreads.KEEP_ALIVE.toSeconds());
      assertThat(Thread.currentThread().getName()).doesNotStartWith("work");
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * JOSDK starts controllers in parallel, each of them its event sources in parallel, each of those its informers, all
   * in one pool and each level waiting for the next: with a queue, two threads that wait for queued work never finish.
   */
  @Test
  void nestedFanOutsThatWaitForEachOtherFinishOnTwoThreads() throws Exception {
    ThreadPoolExecutor pool = OperatorThreads.fanOut("fan", 2);
    try {
      AtomicInteger leaves = new AtomicInteger();
      List<Callable<Void>> outer = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        outer.add(() -> {
          List<Callable<Void>> inner = new ArrayList<>();
          for (int j = 0; j < 6; j++) {
            inner.add(() -> {
              Thread.sleep(2);
              leaves.incrementAndGet();
              return null;
            });
          }
          for (Future<Void> f : pool.invokeAll(inner)) {
            f.get();
          }
          return null;
        });
      }
      ExecutorService caller = java.util.concurrent.Executors.newSingleThreadExecutor();
      Future<List<Future<Void>>> all = caller.submit(() -> pool.invokeAll(outer));
      for (Future<Void> f : all.get(20, TimeUnit.SECONDS)) {
        f.get();
      }
      caller.shutdownNow();
      assertThat(leaves.get()).isEqualTo(36);
      assertThat(pool.getLargestPoolSize()).isEqualTo(2);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void josdksStartPoolIsReplacedByTheBoundedFanOut() {
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl("https://127.0.0.1:1").build()).build()) {
      Operator operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false));
      assertThat(OperatorThreads.boundFanOut(operator)).isTrue();
      ExecutorService pool = operator.getConfigurationService().getExecutorServiceManager().cachingExecutorService();
      assertThat(pool).isInstanceOfSatisfying(ThreadPoolExecutor.class, p -> {
        assertThat(p.getMaximumPoolSize()).isEqualTo(OperatorThreads.FAN_OUT_THREADS);
        assertThat(p.getRejectedExecutionHandler()).isInstanceOf(ThreadPoolExecutor.CallerRunsPolicy.class);
      });
    }
  }

  /** The Kubernetes client's work runs on k8s-dispatch-N and k8s-http-N, never on fabric8's unbounded pools. */
  @Test
  void theKubernetesClientRunsOnItsBoundedNamedPools() throws Exception {
    HttpServer api = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    api.createContext("/api/v1/namespaces", exchange -> {
      byte[] body = ("{\"apiVersion\":\"v1\",\"kind\":\"NamespaceList\",\"metadata\":{\"resourceVersion\":\"1\"},"
          + "\"items\":[]}")
          .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    api.start();
    try (KubernetesClient client = OperatorThreads.bounded(new KubernetesClientBuilder(), new ThreadSettings(8, 3, 2))
        .withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:" + api.getAddress().getPort())
            .withRequestRetryBackoffLimit(0).build()).build()) {
      assertThat(client.adapt(BaseClient.class).getExecutor()).isInstanceOfSatisfying(ThreadPoolExecutor.class,
          p -> assertThat(p.getMaximumPoolSize()).isEqualTo(3));
      for (int i = 0; i < 5; i++) {
        assertThat(client.namespaces().list().getItems()).isEmpty();
      }
      Set<String> names = new java.util.TreeSet<>();
      Thread.getAllStackTraces().keySet().forEach(t -> names.add(t.getName()));
      assertThat(names).anyMatch(n -> n.startsWith("k8s-http-"));
      assertThat(names).noneMatch(n -> n.startsWith("JdkHttpClientFactory"));
      assertThat(names.stream().filter(n -> n.startsWith("k8s-http-"))).allMatch(n -> n.equals("k8s-http-1")
          || n.equals("k8s-http-2"));
    } finally {
      api.stop(0);
    }
  }
}
