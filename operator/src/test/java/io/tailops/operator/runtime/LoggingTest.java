package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tailops.operator.config.OperatorConfig.LogFormat;
import io.tailops.operator.config.OperatorConfig.LogMode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * JSON log lines keep the official operator's field names (zap's production encoder as controller-runtime configures
 * it: {@code level} in lower case, {@code ts} as RFC 3339, {@code logger}, {@code msg}, {@code stacktrace}), so log
 * alerts and dashboards written for the official operator keep working; our own fields come after them.
 */
class LoggingTest {
  static final ObjectMapper JSON = new ObjectMapper();
  final PrintStream stdout = System.out;

  @AfterEach
  void restore() throws Exception {
    System.setOut(stdout);
    LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
    lc.reset();
    new ContextInitializer(lc).autoConfig();
  }

  @Test
  void jsonLinesUseTheOfficialFieldNames() throws Exception {
    Instant before = Instant.now().minusSeconds(1);
    List<JsonNode> lines = capture(LogMode.INFO, log -> {
      MDC.put("resource.namespace", "my-namespace");
      MDC.put("resource.name", "my-service");
      try {
        log.info("proxy created for {}", "my-service");
      } finally {
        MDC.clear();
      }
      log.warn("something to look at");
      log.error("reconcile failed", new IllegalStateException("boom"));
    });

    assertThat(lines).hasSize(3);
    JsonNode info = lines.get(0);
    assertThat(fieldNames(info)).startsWith("level", "ts", "logger", "msg");
    assertThat(info.get("level").asText()).isEqualTo("info");
    assertThat(info.get("logger").asText()).isEqualTo("io.tailops.test.Logging");
    assertThat(info.get("msg").asText()).isEqualTo("proxy created for my-service");
    Instant ts = Instant.from(DateTimeFormatter.ISO_OFFSET_DATE_TIME.parse(info.get("ts").asText()));
    assertThat(ts).isBetween(before, Instant.now().plusSeconds(1));
    assertThat(info.get("ts").asText()).endsWith("Z");
    // Ours, after the official ones.
    assertThat(info.get("resource.namespace").asText()).isEqualTo("my-namespace");
    assertThat(info.get("resource.name").asText()).isEqualTo("my-service");
    assertThat(info.has("thread")).isTrue();
    // None of the logstash defaults that would break queries on the official names.
    assertThat(info.has("message")).isFalse();
    assertThat(info.has("@timestamp")).isFalse();
    assertThat(info.has("logger_name")).isFalse();

    assertThat(lines.get(1).get("level").asText()).isEqualTo("warn");
    JsonNode error = lines.get(2);
    assertThat(error.get("level").asText()).isEqualTo("error");
    assertThat(error.get("stacktrace").asText()).contains("java.lang.IllegalStateException: boom");
    assertThat(error.has("stack_trace")).isFalse();
  }

  @Test
  void warnAndErrorModesLeaveOutLowerLevels() throws Exception {
    List<JsonNode> warn = capture(LogMode.WARN, log -> {
      log.info("not shown");
      log.warn("shown");
      LoggerFactory.getLogger("io.javaoperatorsdk.operator.Operator").info("not shown either");
    });
    assertThat(warn).extracting(l -> l.get("msg").asText()).containsExactly("shown");

    List<JsonNode> error = capture(LogMode.ERROR, log -> {
      log.warn("not shown");
      log.error("shown");
    });
    assertThat(error).extracting(l -> l.get("level").asText()).containsExactly("error");
  }

  @Test
  void debugModeLogsDebugLinesAsDebug() throws Exception {
    List<JsonNode> lines = capture(LogMode.DEBUG, log -> log.debug("detail"));
    assertThat(lines).singleElement().satisfies(l -> assertThat(l.get("level").asText()).isEqualTo("debug"));
  }

  interface Body {
    void run(Logger log);
  }

  static List<JsonNode> capture(LogMode mode, Body body) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream previous = System.out;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      Logging.configure(mode, LogFormat.JSON);
      body.run(LoggerFactory.getLogger("io.tailops.test.Logging"));
    } finally {
      System.setOut(previous);
    }
    List<JsonNode> lines = new ArrayList<>();
    for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
      if (!line.isBlank()) {
        lines.add(JSON.readTree(line));
      }
    }
    return lines;
  }

  static List<String> fieldNames(JsonNode n) {
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
