package io.tailops.operator.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.tailops.operator.config.OperatorConfig;
import net.logstash.logback.encoder.LogstashEncoder;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Configures logging from {@code OPERATOR_LOGGING} / {@code OPERATOR_LOG_FORMAT}: JSON lines (logstash layout, MDC
 * fields such as {@code resource.namespace} and {@code resource.name} included) or plain text whose pattern shows the
 * resource being reconciled.
 */
public final class Logging {
  public static final String PLAIN_PATTERN =
      "%d{HH:mm:ss.SSS} %-5level %logger{20} [%X{resource.namespace:-}/%X{resource.name:-}] %msg%n%ex{short}";

  private Logging() {
  }

  public static void configure(OperatorConfig.LogMode mode, OperatorConfig.LogFormat format) {
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext lc)) {
      return;
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    lc.reset();
    Encoder<ILoggingEvent> encoder;
    if (format == OperatorConfig.LogFormat.JSON) {
      LogstashEncoder json = new LogstashEncoder();
      json.setContext(lc);
      json.start();
      encoder = json;
    } else {
      PatternLayoutEncoder plain = new PatternLayoutEncoder();
      plain.setContext(lc);
      plain.setPattern(PLAIN_PATTERN);
      plain.start();
      encoder = plain;
    }
    ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
    console.setContext(lc);
    console.setName("console");
    console.setEncoder(encoder);
    console.start();
    ch.qos.logback.classic.Logger root = lc.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(console);
    root.setLevel(Level.INFO);
    Level ours = mode == OperatorConfig.LogMode.INFO ? Level.INFO : Level.DEBUG;
    lc.getLogger("io.tailops").setLevel(ours);
    // Noisy libraries stay at INFO/WARN even in debug mode.
    lc.getLogger("io.fabric8").setLevel(Level.WARN);
    lc.getLogger("io.javaoperatorsdk").setLevel(Level.INFO);
    lc.getLogger("io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils").setLevel(Level.ERROR);
    // JOSDK registers meters whose tag keys differ between built-in kinds and CRDs; Prometheus drops the second set.
    lc.getLogger("io.micrometer.prometheusmetrics.PrometheusMeterRegistry").setLevel(Level.ERROR);
  }
}
