package io.dwcp.testbed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.UniqueId;
import org.junit.platform.engine.support.descriptor.AbstractTestDescriptor;
import org.junit.platform.launcher.TestIdentifier;

class HangWatchdogTest {
    private static TestIdentifier test(String name) {
        return TestIdentifier.from(
                new AbstractTestDescriptor(UniqueId.forEngine("e").append("test", name), name) {
                    @Override
                    public Type getType() {
                        return Type.TEST;
                    }
                });
    }

    @Test
    void aTestStillRunningAfterTheTimeGetsEveryThreadPrinted() throws Exception {
        CompletableFuture<String> dumped = new CompletableFuture<>();
        HangWatchdog watchdog = new HangWatchdog(Duration.ofMillis(50), dumped::complete);
        watchdog.executionStarted(test("stuck"));
        String text = dumped.get(30, TimeUnit.SECONDS);
        assertTrue(text.contains("=== hang watchdog: stuck ([engine:e]/[test:stuck]) still runs after PT0.05S"), text);
        // this very thread, waiting for the dump, is among those printed with its stack
        assertTrue(text.contains("\"" + Thread.currentThread().getName() + "\""), text);
        assertTrue(text.contains("aTestStillRunningAfterTheTimeGetsEveryThreadPrinted"), text);
        watchdog.executionFinished(test("stuck"), TestExecutionResult.successful());
        assertEquals(0, watchdog.watched());
    }

    @Test
    void aFinishedTestIsNoLongerWatchedAndNothingIsWatchedWithoutTheProperty() {
        HangWatchdog watchdog = new HangWatchdog(Duration.ofMinutes(10), text -> {
            throw new AssertionError("dumped: " + text);
        });
        watchdog.executionStarted(test("quick"));
        assertEquals(1, watchdog.watched());
        watchdog.executionFinished(test("quick"), TestExecutionResult.successful());
        assertEquals(0, watchdog.watched());

        HangWatchdog off = new HangWatchdog(null, text -> {
            throw new AssertionError("dumped: " + text);
        });
        off.executionStarted(test("any"));
        assertEquals(0, off.watched());
    }
}
