// The lab's JVM (RealServerLabTests): a heap reserved and committed far
// beyond what the program touches (-Xms3g -Xmx3g, say), and a few
// memory-bound threads that each sweep arrays of their own, reading and
// writing every cache line, until SIGTERM.
//
// Usage: java SparseHeap TOUCH_MIB THREADS
// Prints "ready pid=PID touchedMiB=N threads=T" once every array is
// allocated (the JVM zeroes each, so every page is touched) and every
// thread has swept its arrays once; then a "sweeps" line every 5 seconds.
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

public final class SparseHeap {
    /// One array: 4 MiB of longs. Arrays this size are allocated straight in
    /// the old generation once the young one is small (-Xmn), so the touched
    /// heap is about TOUCH_MIB plus the young generation.
    private static final int ARRAY_LONGS = 512 * 1024;
    /// A cache line of longs: the sweep's stride.
    private static final int LINE_LONGS = 8;

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 2) {
            System.err.println("usage: java SparseHeap TOUCH_MIB THREADS");
            System.exit(2);
        }
        int touchMiB = Integer.parseInt(args[0]);
        int threads = Integer.parseInt(args[1]);
        int arraysPerThread = Math.max(1, touchMiB / 4 / threads);
        long[][][] owned = new long[threads][][];
        for (int t = 0; t < threads; t++) {
            owned[t] = new long[arraysPerThread][];
            for (int a = 0; a < arraysPerThread; a++) {
                owned[t][a] = new long[ARRAY_LONGS];
            }
        }
        AtomicLong sweeps = new AtomicLong();
        CountDownLatch swept = new CountDownLatch(threads);
        for (int t = 0; t < threads; t++) {
            long[][] mine = owned[t];
            Thread worker = new Thread(() -> {
                boolean first = true;
                while (true) {
                    for (long[] array : mine) {
                        for (int i = 0; i < array.length; i += LINE_LONGS) {
                            array[i] += i;
                        }
                    }
                    sweeps.incrementAndGet();
                    if (first) {
                        swept.countDown();
                        first = false;
                    }
                }
            }, "sweep-" + t);
            worker.setDaemon(true);
            worker.start();
        }
        swept.await();
        long pid = ProcessHandle.current().pid();
        System.out.println("ready pid=" + pid + " touchedMiB=" + (arraysPerThread * threads * 4) + " threads=" + threads);
        System.out.flush();
        while (true) {
            Thread.sleep(5000);
            System.out.println("sweeps " + sweeps.get());
            System.out.flush();
        }
    }
}
