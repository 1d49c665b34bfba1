package io.tailops.testkit.podrunner;

import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.tailops.testkit.headscale.ContainerbootProcess;

/**
 * One Pod (one UID) run by the {@link LocalPodRunner}: its sandbox (a network namespace of its own, as in a cluster;
 * where namespaces cannot be made, userspace pods get a pod address on the bridge and share the host's namespace and
 * its ports), its materialised volumes, its service-account token and the real
 * {@code containerboot} of its {@code tailscale} container, restarted when it exits as a kubelet would. Read-only
 * view for tests; the runner drives it.
 */
public final class LocalPod {

  private static final Logger log = LoggerFactory.getLogger(LocalPod.class);
  private static final Set<String> FALSE = Set.of("0", "f", "F", "FALSE", "false", "False");

  /** A start that cannot succeed yet (missing Secret, ServiceAccount, ...): retried; the message becomes an Event. */
  static final class NotReady extends Exception {
    final String reason;

    NotReady(String reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  private final LocalPodRunner runner;
  private final String namespace;
  private final String name;
  private final String uid;
  private final Path dir;
  private final Path logFile;
  private final boolean kernelMode;
  /** Whether the pod gets a network namespace of its own: kernel-mode proxies, and every pod of another program. */
  private final boolean sandboxed;
  /** The program the container runs instead of containerboot, or null. */
  private final Path program;
  private volatile Pod pod;
  private PodNetwork.Sandbox sandbox;
  private String podIp;
  private boolean ownsPodAddress;
  private final Map<String, AtomicVolumeWriter> volumes = new LinkedHashMap<>();
  private final Map<String, Path> mounts = new LinkedHashMap<>();
  private Map<String, String> env = Map.of();
  private ContainerProcess process;
  /** The same process when it is containerboot (null for another program). */
  private ContainerbootProcess containerboot;
  private Instant tokenIssued;
  private volatile int restarts;
  private volatile int lastExitCode = -1;
  private volatile Instant startedAt;
  private Instant nextStart;
  private Duration backoff;
  private boolean prepared;
  private volatile boolean stopped;
  private final java.util.concurrent.CountDownLatch stoppedLatch = new java.util.concurrent.CountDownLatch(1);

  LocalPod(LocalPodRunner runner, Pod pod, Path dir, Path logFile) {
    this.runner = runner;
    this.pod = pod;
    this.namespace = pod.getMetadata().getNamespace();
    this.name = pod.getMetadata().getName();
    this.uid = pod.getMetadata().getUid();
    this.dir = dir;
    this.logFile = logFile;
    Container c = runner.mainContainer(pod);
    this.kernelMode = c != null && c.getEnv() != null && c.getEnv().stream()
        .anyMatch(e -> "TS_USERSPACE".equals(e.getName()) && e.getValue() != null && FALSE.contains(e.getValue()));
    this.program = runner.program(pod);
    this.sandboxed = kernelMode || program != null;
  }

  // ------------------------------------------------------------------------------------------------ view

  public String namespace() {
    return namespace;
  }

  public String name() {
    return name;
  }

  public String uid() {
    return uid;
  }

  /** {@code TS_USERSPACE=false}: runs in its own network namespace with TUN and netfilter. */
  public boolean kernelMode() {
    return kernelMode;
  }

  /** The address {@code status.podIP} (and {@code POD_IP}) got; null before the start. */
  public synchronized String podIp() {
    return podIp;
  }

  /** The network namespace of a kernel-mode pod or another program's pod (for {@code ip netns exec}), if any. */
  public synchronized Optional<String> netns() {
    return Optional.ofNullable(sandbox).map(PodNetwork.Sandbox::netns);
  }

  /** containerboot's output across restarts of this pod. */
  public Path logFile() {
    return logFile;
  }

  /** The pod's folder: volumes, containerboot's work folder. Deleted when the pod stops. */
  public Path dir() {
    return dir;
  }

  /** Where a volume of the pod is materialised (kubelet layout, see {@link AtomicVolumeWriter}). */
  public synchronized Optional<Path> volumeDir(String volumeName) {
    return Optional.ofNullable(volumes.get(volumeName)).map(AtomicVolumeWriter::dir);
  }

  /** The container's environment as resolved for the last start (paths into volumes rewritten). */
  public synchronized Map<String, String> env() {
    return env;
  }

  /** tailscaled's LocalAPI socket ({@code tailscale --socket=...}). */
  public synchronized Path socket() {
    return requireContainerboot().socket();
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Container restarts so far (the kubelet's restartCount). */
  public int restarts() {
    return restarts;
  }

  /** Exit code of the last run that ended, -1 if none ended. */
  public int lastExitCode() {
    return lastExitCode;
  }

  public boolean stopped() {
    return stopped;
  }

  /**
   * Waits for containerboot's "{@value ContainerbootProcess#STARTUP_COMPLETE}" line in this pod's log (any run).
   *
   * @throws IllegalStateException on timeout, with the end of the log
   */
  public LocalPod awaitStartupComplete(Duration timeout) {
    awaitLog(ContainerbootProcess.STARTUP_COMPLETE, timeout);
    return this;
  }

  /** Waits until a line of this pod's log contains {@code text}; returns the line. */
  public String awaitLog(String text, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<String> line = logLines().stream().filter(l -> l.contains(text)).findFirst();
      if (line.isPresent()) {
        return line.get();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for \"" + text + "\" from pod "
            + namespace + "/" + name + " (" + uid + "); last lines of " + logFile + ":\n" + logTail(40));
      }
      Host.sleep(200);
    }
  }

  /** Every line of this pod's log so far. */
  public List<String> logLines() {
    try {
      return Files.exists(logFile) ? Files.readAllLines(logFile, StandardCharsets.UTF_8) : List.of();
    } catch (IOException | UncheckedIOException e) {
      return List.of();
    }
  }

  public String logTail(int lines) {
    List<String> all = logLines();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** Runs the tailscale CLI against this pod's tailscaled and returns its output. */
  public String tailscale(String... args) {
    ContainerbootProcess p;
    synchronized (this) {
      p = requireContainerboot();
    }
    return p.tailscale(args);
  }

  /**
   * SIGKILLs containerboot and tailscaled at once, as an OOM kill or a crash would; the runner then restarts the
   * container in the same pod (same UID, sandbox and volumes) after its back-off, as the kubelet does.
   */
  public void kill() {
    ContainerProcess p;
    synchronized (this) {
      requireProcess();
      p = process;
    }
    log.info("pod {}/{} ({}): killing {} (simulated crash)", namespace, name, shortUid(), programName());
    p.kill();
  }

  private void requireProcess() {
    if (process == null) {
      throw new IllegalStateException("pod " + namespace + "/" + name + " has not started");
    }
  }

  private ContainerbootProcess requireContainerboot() {
    requireProcess();
    if (containerboot == null) {
      throw new IllegalStateException("pod " + namespace + "/" + name + " runs " + programName()
          + ", not containerboot");
    }
    return containerboot;
  }

  /** What the container runs: containerboot, or the runner's program. */
  private String programName() {
    return program == null ? "containerboot" : program.getFileName().toString();
  }

  // ------------------------------------------------------------------------------------------------ driven by the runner

  void updatePod(Pod latest) {
    this.pod = latest;
  }

  Pod pod() {
    return pod;
  }

  /** Whether a start (or restart) is due now. */
  synchronized boolean startDue(Instant now) {
    return !stopped && (process == null || !process.isAlive()) && (nextStart == null || !now.isBefore(nextStart));
  }

  synchronized Instant nextStart() {
    return nextStart;
  }

  /**
   * First start: sandbox, volumes, token, init containers, containerboot. Restarts (after an exit) reuse the sandbox
   * and volumes and start a new containerboot, as the kubelet restarts a container.
   */
  synchronized void start() throws NotReady {
    if (stopped) {
      return;
    }
    Container c = runner.mainContainer(pod);
    if (c == null) {
      throw new NotReady("Failed", "the pod has no container named " + runner.containerName(pod));
    }
    if (!prepared) {
      prepare(c);
      prepared = true;
    }
    syncVolumes();
    refreshTokenIfOld();
    if (process != null && !process.isAlive() && startedAt != null) {
      restarts++;
    }
    process.start();
    startedAt = Instant.now();
    nextStart = null;
    log.info("pod {}/{} ({}): {} started{} ({}, pod IP {}, log {})", namespace, name, shortUid(), programName(),
        restarts == 0 ? "" : " again (restart " + restarts + ")", (kernelMode ? "kernel mode" : "userspace")
        + (sandbox != null ? " in network namespace " + sandbox.netns() : " in the host's network namespace"), podIp,
        logFile);
  }

  private void prepare(Container c) throws NotReady {
    try {
      Files.createDirectories(dir);
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PodNetwork network = runner.network();
    if (sandboxed) {
      PodNetwork.Support s = PodNetwork.probe();
      if (network == null || !s.kernelMode()) {
        throw new NotReady("KernelModeUnavailable", (kernelMode ? "kernel-mode proxy pods (TS_USERSPACE=false)"
            : "pods of " + programName()) + " need a network namespace, TUN and netfilter, which are not available "
            + "here: "
            + (network == null ? "the pod runner has no pod network" : s.reason()));
      }
      if (sandbox == null) {
        sandbox = network.sandbox(namespace + "/" + name);
        podIp = sandbox.ip();
      }
    } else if (podIp == null) {
      if (network != null && PodNetwork.probe().kernelMode()) {
        // Its own namespace too: what it listens on (metrics on $(POD_IP):9002, the debug port) is its own, never
        // a port of this machine that another program may hold.
        sandbox = network.sandbox(namespace + "/" + name);
        podIp = sandbox.ip();
      } else if (network != null) {
        podIp = network.podAddress();
        ownsPodAddress = true;
      } else {
        podIp = "127.0.0.1";
      }
    }
    // Volumes first (the kubelet does not start containers whose volumes cannot be mounted).
    mounts.clear();
    List<Volume> vols = pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
    for (Volume v : vols) {
      volumes.computeIfAbsent(v.getName(), n -> new AtomicVolumeWriter(dir.resolve("volumes").resolve(n)));
    }
    syncVolumes();
    if (c.getVolumeMounts() != null) {
      for (VolumeMount m : c.getVolumeMounts()) {
        AtomicVolumeWriter w = volumes.get(m.getName());
        if (w == null) {
          log.warn("pod {}/{}: volume mount {} at {} names no supported volume; not available", namespace, name,
              m.getName(), m.getMountPath());
          continue;
        }
        Path p = m.getSubPath() == null || m.getSubPath().isEmpty() ? w.dir() : w.dir().resolve(m.getSubPath());
        mounts.put(trimSlash(m.getMountPath()), p);
      }
    }
    String token = runner.serviceAccountToken(pod);
    tokenIssued = Instant.now();
    Map<String, String> resolved;
    try {
      resolved = PodEnv.resolve(pod, c, runner.serviceEnv(), podIp, runner.hostIp(), runner.nodeName(),
          runner.envSources());
    } catch (PodEnv.EnvException e) {
      throw new NotReady("CreateContainerConfigError", e.getMessage());
    }
    Map<String, String> finalEnv = new LinkedHashMap<>(runner.extraEnv());
    resolved.forEach((k, v) -> finalEnv.put(k, rewritePath(v)));
    this.env = Map.copyOf(finalEnv);
    runInitContainers();
    if (program != null) {
      if (c.getCommand() != null && !c.getCommand().isEmpty()) {
        log.warn("pod {}/{}: container command {} ignored: the local runner runs {}", namespace, name,
            c.getCommand(), program);
      }
      Map<String, Path> volumeMounts = new LinkedHashMap<>(mounts);
      process = new MinimalRootProcess(programName() + "[" + name + "]", program,
          PodEnv.expandAll(c.getArgs(), resolved), finalEnv, volumeMounts, dir.resolve("c"), logFile,
          sandbox.execPrefix());
      return;
    }
    String image = c.getImage() == null ? "" : c.getImage();
    String version = runner.binaries().tailscaleVersion();
    if (!image.endsWith(":v" + version) && !image.endsWith(":" + version)) {
      log.warn("pod {}/{}: image {} is not tailscale v{}; running the local v{} binaries anyway", namespace, name,
          image, version, version);
    }
    if (c.getCommand() != null && !c.getCommand().isEmpty() || c.getArgs() != null && !c.getArgs().isEmpty()) {
      log.warn("pod {}/{}: container command/args {} {} ignored: the local runner always runs containerboot",
          namespace, name, c.getCommand(), c.getArgs());
    }
    ContainerbootProcess.Builder b = ContainerbootProcess.builder()
        .podName(name)
        .podUid(uid)
        .serviceAccount(namespace, runner.caPem(), token)
        .kubernetesServiceAddress(runner.apiAddress())
        .workDir(dir.resolve("c"))
        .logFile(logFile)
        .binaries(runner.binaries())
        .env(finalEnv);
    if (sandbox != null) {
      b.commandPrefix(sandbox.execPrefix());
    }
    containerboot = b.build();
    process = ContainerProcess.of(containerboot);
  }

  /** Runs init containers that have a command, in the pod's network namespace; others are skipped. */
  private void runInitContainers() throws NotReady {
    if (pod.getSpec().getInitContainers() == null) {
      return;
    }
    for (Container ic : pod.getSpec().getInitContainers()) {
      if (sandbox == null) {
        log.info("pod {}/{}: init container {} skipped: the pod shares the host's network namespace", namespace,
            name, ic.getName());
        continue;
      }
      if (ic.getCommand() == null || ic.getCommand().isEmpty()) {
        log.info("pod {}/{}: init container {} skipped: no command (image entrypoint)", namespace, name,
            ic.getName());
        continue;
      }
      Map<String, String> icEnv;
      try {
        icEnv = PodEnv.resolve(pod, ic, runner.serviceEnv(), podIp, runner.hostIp(), runner.nodeName(),
            runner.envSources());
      } catch (PodEnv.EnvException e) {
        throw new NotReady("CreateContainerConfigError", "init container " + ic.getName() + ": " + e.getMessage());
      }
      List<String> cmd = new ArrayList<>(sandbox.execPrefix());
      cmd.addAll(PodEnv.expandAll(ic.getCommand(), icEnv));
      cmd.addAll(PodEnv.expandAll(ic.getArgs(), icEnv));
      OneShotCommand.Result r = Host.run(cmd, icEnv, Duration.ofSeconds(60));
      appendLog("# init container " + ic.getName() + ": " + String.join(" ", cmd.subList(4, cmd.size()))
          + " -> exit " + r.exitCode() + "\n" + r.stdout() + r.stderr());
      if (!r.ok()) {
        throw new NotReady("InitContainerFailed", "init container " + ic.getName() + " exited " + r.exitCode() + ": "
            + (r.stderr() + r.stdout()).strip());
      }
    }
  }

  private void appendLog(String text) {
    try {
      Files.createDirectories(logFile.getParent());
      Files.writeString(logFile, text.endsWith("\n") ? text : text + "\n", StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    } catch (IOException e) {
      log.debug("cannot write {}: {}", logFile, e.toString());
    }
  }

  /** An env value naming a path inside a volume mount, rewritten to where that volume is materialised. */
  String rewritePath(String value) {
    if (value == null) {
      return null;
    }
    String prefix = value.startsWith("file:") ? "file:" : "";
    String v = value.substring(prefix.length());
    return mounts.keySet().stream()
        .filter(m -> v.equals(m) || v.startsWith(m + "/"))
        .max(Comparator.comparingInt(String::length))
        .map(m -> prefix + mounts.get(m) + v.substring(m.length()))
        .orElse(value);
  }

  private static String trimSlash(String p) {
    return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
  }

  /**
   * Writes every Secret, ConfigMap and emptyDir volume from the runner's caches (kubelet's atomic update: containerboot
   * sees the {@code ..data} swap).
   *
   * @throws NotReady if a non-optional Secret or ConfigMap (or a key named in {@code items}) is missing
   */
  synchronized void syncVolumes() throws NotReady {
    List<Volume> vols = pod.getSpec().getVolumes() == null ? List.of() : pod.getSpec().getVolumes();
    for (Volume v : vols) {
      AtomicVolumeWriter w = volumes.get(v.getName());
      if (w == null) {
        continue;
      }
      Map<String, AtomicVolumeWriter.File> payload;
      if (v.getSecret() != null) {
        Secret s = runner.secret(namespace, v.getSecret().getSecretName());
        boolean optional = Boolean.TRUE.equals(v.getSecret().getOptional());
        if (s == null && !optional) {
          throw new NotReady("FailedMount", "MountVolume.SetUp failed for volume \"" + v.getName() + "\" : secret \""
              + v.getSecret().getSecretName() + "\" not found");
        }
        payload = payload(v.getName(), s == null ? Map.of() : bytes(s), v.getSecret().getItems(),
            v.getSecret().getDefaultMode(), optional, "Secret " + v.getSecret().getSecretName());
      } else if (v.getConfigMap() != null) {
        ConfigMap cm = runner.configMap(namespace, v.getConfigMap().getName());
        boolean optional = Boolean.TRUE.equals(v.getConfigMap().getOptional());
        if (cm == null && !optional) {
          throw new NotReady("FailedMount", "MountVolume.SetUp failed for volume \"" + v.getName()
              + "\" : configmap \"" + v.getConfigMap().getName() + "\" not found");
        }
        payload = payload(v.getName(), cm == null ? Map.of() : bytes(cm), v.getConfigMap().getItems(),
            v.getConfigMap().getDefaultMode(), optional, "ConfigMap " + v.getConfigMap().getName());
      } else if (v.getEmptyDir() != null) {
        try {
          Files.createDirectories(w.dir());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        continue;
      } else {
        continue; // unsupported kind; prepare() warns about its mounts
      }
      if (w.write(payload) && startedAt != null) {
        log.debug("pod {}/{}: volume {} updated", namespace, name, v.getName());
      }
    }
  }

  private static Map<String, AtomicVolumeWriter.File> payload(String volume, Map<String, byte[]> data,
      List<KeyToPath> items, Integer defaultMode, boolean optional, String what) throws NotReady {
    int mode = defaultMode == null ? 0644 : defaultMode;
    Map<String, AtomicVolumeWriter.File> out = new LinkedHashMap<>();
    if (items == null || items.isEmpty()) {
      data.forEach((k, v) -> out.put(k, new AtomicVolumeWriter.File(v, mode)));
      return out;
    }
    for (KeyToPath item : items) {
      byte[] v = data.get(item.getKey());
      if (v == null) {
        if (optional) {
          continue;
        }
        throw new NotReady("FailedMount", "MountVolume.SetUp failed for volume \"" + volume + "\" : references non-"
            + "existent key " + item.getKey() + " of " + what);
      }
      out.put(item.getPath(), new AtomicVolumeWriter.File(v, item.getMode() == null ? mode : item.getMode()));
    }
    return out;
  }

  private static Map<String, byte[]> bytes(Secret s) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    if (s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
    }
    return out;
  }

  private static Map<String, byte[]> bytes(ConfigMap cm) {
    Map<String, byte[]> out = new LinkedHashMap<>();
    if (cm.getData() != null) {
      cm.getData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
    }
    if (cm.getBinaryData() != null) {
      cm.getBinaryData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
    }
    return out;
  }

  /** Renews the service-account token file after 80% of its lifetime, as the kubelet does. */
  synchronized void refreshTokenIfOld() {
    if (containerboot == null || tokenIssued == null) {
      return;
    }
    Duration age = Duration.between(tokenIssued, Instant.now());
    if (age.compareTo(LocalPodRunner.TOKEN_LIFETIME.multipliedBy(8).dividedBy(10)) < 0) {
      return;
    }
    try {
      containerboot.updateServiceAccountToken(runner.serviceAccountToken(pod));
      tokenIssued = Instant.now();
      log.debug("pod {}/{}: service-account token renewed", namespace, name);
    } catch (NotReady | RuntimeException e) {
      log.warn("pod {}/{}: cannot renew the service-account token: {}", namespace, name, e.getMessage());
    }
  }

  /**
   * Notes an exit seen by the runner and schedules the restart with the kubelet's doubling back-off.
   *
   * @return whether this is a new exit (not seen before)
   */
  synchronized boolean noteExit() {
    if (process == null || process.isAlive() || nextStart != null || stopped) {
      return false;
    }
    lastExitCode = process.exitCode();
    Duration ran = startedAt == null ? Duration.ZERO : Duration.between(startedAt, Instant.now());
    // the kubelet resets the back-off after a container ran for 10 minutes
    if (backoff == null || ran.compareTo(Duration.ofMinutes(10)) > 0) {
      backoff = runner.initialBackoff();
    } else {
      backoff = backoff.multipliedBy(2).compareTo(runner.maxBackoff()) > 0 ? runner.maxBackoff()
          : backoff.multipliedBy(2);
    }
    nextStart = Instant.now().plus(backoff);
    log.info("pod {}/{} ({}): {} exited with code {} after {} s; restarting in {} ms", namespace, name,
        shortUid(), programName(), lastExitCode, ran.toSeconds(), backoff.toMillis());
    return true;
  }

  synchronized Duration backoff() {
    return backoff;
  }

  synchronized Instant startedAt() {
    return startedAt;
  }

  /** Schedules another start attempt (after a {@link NotReady}). */
  synchronized void retryIn(Duration d) {
    nextStart = Instant.now().plus(d);
  }

  /**
   * SIGTERM (containerboot then waits for consistent state and stops tailscaled), SIGKILL after {@code grace}; then
   * the sandbox, the pod address and the pod's folder (volumes, state) go. The log stays.
   */
  void stop(Duration grace) {
    ContainerProcess p;
    boolean alreadyStopping;
    synchronized (this) {
      alreadyStopping = stopped;
      stopped = true;
      p = process;
    }
    if (alreadyStopping) {
      // someone else is stopping it: wait (outside the lock) for that to finish
      try {
        stoppedLatch.await(grace.toMillis() + 20_000, java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    long t0 = System.nanoTime();
    if (p != null) {
      try {
        p.stop(grace);
      } catch (RuntimeException e) {
        log.warn("pod {}/{}: stopping containerboot failed: {}", namespace, name, e.toString());
      }
    }
    synchronized (this) {
      if (sandbox != null) {
        sandbox.close();
      }
      if (ownsPodAddress && runner.network() != null) {
        runner.network().releasePodAddress(podIp);
      }
      try {
        AtomicVolumeWriter.deleteRecursively(dir);
      } catch (IOException e) {
        log.debug("cannot delete {}: {}", dir, e.toString());
      }
    }
    stoppedLatch.countDown();
    log.info("pod {}/{} ({}) stopped in {} ms", namespace, name, shortUid(), (System.nanoTime() - t0) / 1_000_000);
  }

  String shortUid() {
    return uid == null ? "?" : uid.substring(0, Math.min(8, uid.length()));
  }

  @Override
  public String toString() {
    return "LocalPod[" + namespace + "/" + name + " " + shortUid() + (kernelMode ? " kernel" : " userspace")
        + (podIp == null ? "" : " " + podIp) + (isRunning() ? " running" : "") + "]";
  }
}
