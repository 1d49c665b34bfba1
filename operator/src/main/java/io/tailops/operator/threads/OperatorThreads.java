package io.tailops.operator.threads;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientImpl;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.ExecutorServiceManager;
import io.javaoperatorsdk.operator.RegisteredController;
import io.javaoperatorsdk.operator.processing.Controller;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.timer.TimerEventSource;
import io.tailops.operator.config.ThreadSettings;
import java.lang.reflect.Field;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's threads: every pool bounded, named after its work, and sized for a node of two cores
 * ({@link ThreadSettings}); the idle threads of a pool end after {@link #KEEP_ALIVE}. docs/design.md "Threads" says
 * which pool does what and why its size cannot starve the others.
 */
public final class OperatorThreads {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorThreads.class);

  /** How long an idle pool thread waits for work before it ends. */
  public static final Duration KEEP_ALIVE = Duration.ofSeconds(20);

  /** Threads of JOSDK's start/stop fan-out (controllers and their event sources started in parallel). */
  public static final int FAN_OUT_THREADS = 4;

  private OperatorThreads() {
  }

  /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ... */
  public static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * At most {@code threads} threads, started as work comes and ended after {@link #KEEP_ALIVE} idle; work beyond them
   * waits in an unbounded queue (never rejected). For work that does not wait for other work of the same pool.
   */
  public static ThreadPoolExecutor bounded(String prefix, int threads) {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS,
        new LinkedBlockingQueue<>(), named(prefix));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /**
   * At most {@code threads} threads; a task that finds them all busy runs in the thread that submitted it. For fan-outs
   * whose tasks fan out again into the same pool and wait for the result: a queue would deadlock them once every
   * thread waits for a queued task, running in the caller cannot.
   */
  public static ThreadPoolExecutor fanOut(String prefix, int threads) {
    return new ThreadPoolExecutor(0, threads, KEEP_ALIVE.toMillis(), TimeUnit.MILLISECONDS, new SynchronousQueue<>(),
        named(prefix), new ThreadPoolExecutor.CallerRunsPolicy());
  }

  /** One thread for timed work, ended when the scheduler is shut down. */
  public static ScheduledThreadPoolExecutor scheduler(String name) {
    ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /**
   * {@code builder} with bounded pools for the Kubernetes client: its task executor (informer event dispatch, watch
   * reconnects: {@code k8s-dispatch-N}) and the executor of its JDK HTTP client (response and body delivery, TLS
   * tasks: {@code k8s-http-N}); both shut down when the client is closed. fabric8's defaults are unbounded cached
   * pools.
   */
  public static KubernetesClientBuilder bounded(KubernetesClientBuilder builder, ThreadSettings threads) {
    return builder.withTaskExecutorSupplier(new KubernetesClientBuilder.ExecutorSupplier() {
      @Override
      public Executor get() {
        return bounded("k8s-dispatch", threads.dispatch());
      }

      @Override
      public void onClose(Executor executor) {
        ((ExecutorService) executor).shutdownNow();
      }
    }).withHttpClientFactory(new BoundedJdkHttpClientFactory(threads.http()));
  }

  /** fabric8's JDK HTTP client factory with a bounded, named executor in place of its cached pool. */
  static final class BoundedJdkHttpClientFactory extends JdkHttpClientFactory {
    private final int threads;
    private final List<ExecutorService> pools = new CopyOnWriteArrayList<>();

    BoundedJdkHttpClientFactory(int threads) {
      this.threads = threads;
    }

    @Override
    protected HttpClient.Builder createNewHttpClientBuilder() {
      ExecutorService pool = bounded("k8s-http", threads);
      pools.add(pool);
      return HttpClient.newBuilder().executor(pool);
    }

    @Override
    protected void closeHttpClient(JdkHttpClientImpl client) {
      super.closeHttpClient(client);
      pools.forEach(ExecutorService::shutdownNow);
    }
  }

  private static final class Outbound {
    static final HttpClient CLIENT = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(10))
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .executor(bounded("http-out", 2))
        .build();
  }

  /**
   * The one HTTP client of this process for everything but the Kubernetes API: the control plane's API (Tailscale or
   * headscale) and the Ingress redirect probe. HTTP/1.1, no redirects followed, a 10 s connect timeout (each caller
   * bounds its requests with its own request timeout); two executor threads ({@code http-out-N}), as the callers block
   * in their own threads and the executor only completes their responses.
   */
  public static HttpClient outbound() {
    return Outbound.CLIENT;
  }

  /**
   * Puts a {@link #fanOut} pool of {@link #FAN_OUT_THREADS} ({@code josdk-start-N}) in place of the unbounded cached
   * pool JOSDK 5 starts and stops controllers and event sources with, nested (controllers, then each one's event
   * sources, then each one's informers) and always waiting for the result: hence caller-runs, not a queue. JOSDK has no
   * setting for this pool, so the field is set; without it (a JOSDK that renamed it), the cached pool stays and this
   * logs a warning.
   *
   * @return whether the pool was replaced
   */
  public static boolean boundFanOut(Operator operator) {
    ExecutorServiceManager manager = operator.getConfigurationService().getExecutorServiceManager();
    try {
      Field field = ExecutorServiceManager.class.getDeclaredField("cachingExecutorService");
      field.setAccessible(true);
      ExecutorService previous = (ExecutorService) field.get(manager);
      field.set(manager, fanOut("josdk-start", FAN_OUT_THREADS));
      if (previous != null) {
        previous.shutdown(); // never used: JOSDK uses it only when the operator starts
      }
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("JOSDK's start/stop pool stays unbounded (cannot replace it: {})", e.toString());
      return false;
    }
  }

  /** A {@link java.util.Timer} for JOSDK's event sources: their {@code cancel()} is ignored; {@link #end()} ends it. */
  public static final class SharedTimer extends java.util.Timer {
    SharedTimer(String name) {
      super(name, true);
    }

    /** Ignored: each controller's timer event source cancels "its" timer when it stops. */
    @Override
    public void cancel() {
      // the owner ends the shared timer with end()
    }

    /** Ends the thread; tasks not run yet are dropped. */
    public void end() {
      super.cancel();
    }
  }

  /**
   * Moves every controller's retry/reschedule timer (JOSDK 5 gives each {@code TimerEventSource} a
   * {@link java.util.Timer}: a thread per controller, 12 here) onto one shared timer thread ({@code josdk-timer}),
   * after
   * {@code operator.start()}. Each controller's switch happens under its event processor's lock, which JOSDK holds for
   * every {@code scheduleOnce}: the tasks already scheduled (reschedules, and the default 10 h maximum reconcile
   * interval of every reconciled object) move to the shared timer with their due times, then the controller's own
   * timer ends. A task that is running at that moment runs to its end. JOSDK has no setting for this timer; where its
   * fields are not found, the per-controller timers stay and this logs a warning.
   *
   * @return the shared timer, to {@link SharedTimer#end()} after {@code operator.stop()}
   */
  @SuppressWarnings("rawtypes")
  public static SharedTimer shareJosdkTimers(Operator operator) {
    SharedTimer shared = new SharedTimer("josdk-timer");
    int moved = 0;
    try {
      for (RegisteredController registered : operator.getRegisteredControllers()) {
        if (!(registered instanceof Controller controller)) {
          continue;
        }
        for (Object source : controller.getEventSourceManager().allEventSources()) {
          if (source instanceof TimerEventSource timerSource && moveTimer(timerSource,
              controller.getEventProcessor(), shared)) {
            moved++;
          }
        }
      }
      LOG.debug("{} JOSDK timers moved to one thread", moved);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("JOSDK's timers stay one thread per controller ({} moved; cannot move the others: {})", moved,
          e.toString());
    }
    return shared;
  }

  /**
   * Moves one started timer event source onto {@code shared}, holding {@code lock} (the lock its callers hold when
   * they schedule); its scheduled tasks keep their due times, its own timer ends.
   *
   * @return false when it was on {@code shared} already or not started
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static boolean moveTimer(TimerEventSource source, Object lock, SharedTimer shared)
      throws ReflectiveOperationException {
    Field timerField = TimerEventSource.class.getDeclaredField("timer");
    Field tasksField = TimerEventSource.class.getDeclaredField("onceTasks");
    timerField.setAccessible(true);
    tasksField.setAccessible(true);
    synchronized (lock) {
      java.util.Timer own = (java.util.Timer) timerField.get(source);
      if (own == null || own == shared) {
        return false;
      }
      timerField.set(source, shared);
      Map<ResourceID, java.util.TimerTask> tasks = (Map<ResourceID, java.util.TimerTask>) tasksField.get(source);
      for (Map.Entry<ResourceID, java.util.TimerTask> e : List.copyOf(tasks.entrySet())) {
        long due = e.getValue().scheduledExecutionTime();
        if (e.getValue().cancel()) { // not run yet: now on the shared timer, as due as it was
          source.scheduleOnce(e.getKey(), Math.max(0, due - System.currentTimeMillis()));
        }
      }
      own.cancel();
      return true;
    }
  }
}
