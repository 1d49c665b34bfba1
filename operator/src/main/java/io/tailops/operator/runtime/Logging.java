package io.tailops.operator.runtime;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import io.tailops.operator.config.OperatorConfig;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Locale;
import net.logstash.logback.composite.AbstractFieldJsonProvider;
import net.logstash.logback.composite.loggingevent.KeyValuePairsJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggerNameJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventFormattedTimestampJsonProvider;
import net.logstash.logback.composite.loggingevent.LoggingEventJsonProviders;
import net.logstash.logback.composite.loggingevent.LoggingEventThreadNameJsonProvider;
import net.logstash.logback.composite.loggingevent.LogstashMarkersJsonProvider;
import net.logstash.logback.composite.loggingevent.MdcJsonProvider;
import net.logstash.logback.composite.loggingevent.MessageJsonProvider;
import net.logstash.logback.composite.loggingevent.StackTraceJsonProvider;
import net.logstash.logback.encoder.LoggingEventCompositeJsonEncoder;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Configures logging from {@code OPERATOR_LOGGING} / {@code OPERATOR_LOG_FORMAT}: JSON lines or plain text whose
 * pattern shows the resource being reconciled.
 *
 * <p>JSON lines carry the official operator's field names first (its zap production encoder, as controller-runtime
 * configures it): {@code level} (lower case: debug, info, warn, error), {@code ts} (RFC 3339, UTC), {@code logger},
 * {@code msg}, and {@code stacktrace} for errors, so that log alerts and dashboards written for the official operator
 * keep working. Then ours: {@code thread}, the MDC fields (such as {@code resource.namespace} and
 * {@code resource.name}), key/value pairs and markers.
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
      encoder = jsonEncoder(lc);
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
    Level ours = switch (mode) {
      case INFO -> Level.INFO;
      case DEBUG, DEV -> Level.DEBUG;
      case WARN -> Level.WARN;
      case ERROR -> Level.ERROR;
    };
    if (ours.isGreaterOrEqual(Level.WARN)) {
      root.setLevel(ours);
    }
    lc.getLogger("io.tailops").setLevel(ours);
    // Noisy libraries stay at INFO/WARN even in debug mode (and follow warn/error when those are chosen).
    lc.getLogger("io.fabric8").setLevel(ours.isGreaterOrEqual(Level.WARN) ? ours : Level.WARN);
    lc.getLogger("io.javaoperatorsdk").setLevel(ours.isGreaterOrEqual(Level.WARN) ? ours : Level.INFO);
    lc.getLogger("io.fabric8.kubernetes.client.dsl.internal.VersionUsageUtils").setLevel(Level.ERROR);
    // JOSDK registers meters whose tag keys differ between built-in kinds and CRDs; Prometheus drops the second set.
    lc.getLogger("io.micrometer.prometheusmetrics.PrometheusMeterRegistry").setLevel(Level.ERROR);
  }

  /** The JSON encoder: the official operator's field names first (see the class comment), then ours. */
  static Encoder<ILoggingEvent> jsonEncoder(LoggerContext lc) {
    LoggingEventJsonProviders providers = new LoggingEventJsonProviders();
    providers.addProvider(new LowerCaseLevel());
    LoggingEventFormattedTimestampJsonProvider ts = new LoggingEventFormattedTimestampJsonProvider();
    ts.setFieldName("ts");
    ts.setPattern("[ISO_INSTANT]");
    ts.setTimeZone("UTC");
    providers.addTimestamp(ts);
    LoggerNameJsonProvider logger = new LoggerNameJsonProvider();
    logger.setFieldName("logger");
    providers.addLoggerName(logger);
    MessageJsonProvider msg = new MessageJsonProvider();
    msg.setFieldName("msg");
    providers.addMessage(msg);
    LoggingEventThreadNameJsonProvider thread = new LoggingEventThreadNameJsonProvider();
    thread.setFieldName("thread");
    providers.addThreadName(thread);
    providers.addMdc(new MdcJsonProvider());
    providers.addKeyValuePairs(new KeyValuePairsJsonProvider());
    providers.addLogstashMarkers(new LogstashMarkersJsonProvider());
    StackTraceJsonProvider stack = new StackTraceJsonProvider();
    stack.setFieldName("stacktrace");
    providers.addStackTrace(stack);
    LoggingEventCompositeJsonEncoder json = new LoggingEventCompositeJsonEncoder();
    json.setContext(lc);
    json.setProviders(providers);
    json.start();
    return json;
  }

  /** {@code "level": "info"}: zap's lower-case level names (logback's WARN is zap's warn). */
  static final class LowerCaseLevel extends AbstractFieldJsonProvider<ILoggingEvent> {
    LowerCaseLevel() {
      setFieldName("level");
    }

    @Override
    public void writeTo(JsonGenerator generator, ILoggingEvent event) throws IOException {
      generator.writeStringField(getFieldName(), event.getLevel().toString().toLowerCase(Locale.ROOT));
    }
  }
}
