package io.dwcp.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The codec lanes: each runs its tasks one at a time in order; lanes run side by side; closing ends them. */
class CodecThreadsTest {
    @Test
    void aLaneRunsItsTasksOneAtATimeInTheOrderGiven() throws Exception {
        try (CodecThreads threads = new CodecThreads(4)) {
            Executor lane = threads.newLane();
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger running = new AtomicInteger();
            AtomicInteger mostAtOnce = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            for (int i = 0; i < 10_000; i++) {
                int task = i;
                lane.execute(() -> {
                    mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
                    order.add(task);
                    running.decrementAndGet();
                    if (task == 9_999) {
                        done.countDown();
                    }
                });
            }
            assertTrue(done.await(30, TimeUnit.SECONDS));
            assertEquals(1, mostAtOnce.get(), "never two tasks of one lane at once");
            for (int i = 0; i < order.size(); i++) {
                assertEquals(i, order.get(i));
            }
        }
    }

    @Test
    void twoLanesRunSideBySideOnTheCodecThreads() throws Exception {
        try (CodecThreads threads = new CodecThreads(2)) {
            CountDownLatch bothIn = new CountDownLatch(2);
            Set<String> names = ConcurrentHashMap.newKeySet();
            CountDownLatch done = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                threads.newLane().execute(() -> {
                    names.add(Thread.currentThread().getName());
                    bothIn.countDown();
                    try {
                        // each waits for the other: only possible if both run at once
                        assertTrue(bothIn.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    done.countDown();
                });
            }
            assertTrue(done.await(30, TimeUnit.SECONDS), "the two lanes ran at the same time");
            assertEquals(2, names.size());
            assertTrue(names.stream().allMatch(name -> name.startsWith("dwcp-codec")), names.toString());
        }
    }

    @Test
    void closingLetsTheTasksGivenFinishAndRefusesNewOnes() throws Exception {
        CodecThreads threads = new CodecThreads(1);
        Executor lane = threads.newLane();
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 100; i++) {
            lane.execute(ran::incrementAndGet);
        }
        threads.close();
        assertEquals(100, ran.get(), "close waits for what was given");
        assertThrows(RejectedExecutionException.class, () -> lane.execute(ran::incrementAndGet));
    }

    @Test
    void everyThreadRunsFromTheStartAndEndsWithClose() throws InterruptedException {
        Set<Thread> before = codecThreads();
        Set<Thread> started;
        try (CodecThreads threads = new CodecThreads(3)) {
            started = codecThreads();
            started.removeAll(before);
            assertEquals(3, started.size(), "the codec threads started before any task: " + started);
        }
        for (Thread thread : started) {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            assertTrue(!thread.isAlive(), thread + " still runs after close");
        }
    }

    private static Set<Thread> codecThreads() {
        Set<Thread> threads = new java.util.HashSet<>();
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().startsWith("dwcp-codec")) {
                threads.add(thread);
            }
        }
        return threads;
    }

    @Test
    void atLeastOneThread() {
        assertThrows(IllegalArgumentException.class, () -> new CodecThreads(0));
        try (CodecThreads threads = new CodecThreads(1)) {
            assertEquals(1, threads.threads());
        }
    }
}
