package io.tailops.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;

/**
 * Records every test and test class that did not run, with the reason: disabled, or aborted by a failed assumption
 * (a missing prerequisite such as chromium, root or a pod network). One line each, {@code <class>[.<method>]: <reason>},
 * appended to {@value #FILE} in the working folder (the module's, under Surefire). {@code .ci/run} prints them and,
 * with {@code CI=true}, fails on any: a test that did not run proves nothing.
 *
 * <p>Needed because Surefire's reports miss part of it: a class whose {@code @BeforeAll} or extension aborts shows as
 * "Tests run: 0", not as skipped. Registered for every module that has the test kit on its test classpath through
 * {@code META-INF/services/org.junit.platform.launcher.TestExecutionListener}.
 */
public final class SkippedTestsRecorder implements TestExecutionListener {
  /** Where the lines go, relative to the working folder. */
  public static final String FILE = "target/skipped-tests.txt";

  @Override
  public void executionSkipped(TestIdentifier test, String reason) {
    record(test, "disabled: " + reason);
  }

  @Override
  public void executionFinished(TestIdentifier test, TestExecutionResult result) {
    if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
      record(test, result.getThrowable().map(t -> String.valueOf(t.getMessage())).orElse("aborted"));
    }
  }

  private static synchronized void record(TestIdentifier test, String reason) {
    String line = name(test) + ": " + reason.replaceAll("\\s+", " ").strip() + "\n";
    try {
      Path file = Path.of(FILE);
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      System.err.println("SkippedTestsRecorder: cannot write " + FILE + ": " + e + "; skipped: " + line);
    }
  }

  /** {@code <class>.<method>} for a test, {@code <class>} for a class, else the display name. */
  static String name(TestIdentifier test) {
    TestSource source = test.getSource().orElse(null);
    if (source instanceof MethodSource m) {
      return m.getClassName() + "." + m.getMethodName();
    }
    if (source instanceof ClassSource c) {
      return c.getClassName() + " (the whole class)";
    }
    return test.getDisplayName();
  }
}
