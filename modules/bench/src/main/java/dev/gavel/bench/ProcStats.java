package dev.gavel.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** A process's resident memory and CPU time, read from {@code /proc} (Linux). */
final class ProcStats {

    /** Clock ticks per second of {@code utime}/{@code stime}: USER_HZ, 100 on every Linux the bench runs on. */
    static final long TICKS_PER_SECOND = 100;

    private ProcStats() {
    }

    /** VmRSS in KiB, or -1 when the process is gone. */
    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    /** utime + stime of the whole process (every thread), in milliseconds; -1 when it is gone. */
    static long cpuMillis(long pid) {
        long ticks = ticks(Path.of("/proc", String.valueOf(pid), "stat"));
        return ticks < 0 ? -1 : ticks * 1000 / TICKS_PER_SECOND;
    }

    /** CPU milliseconds of each thread, keyed by "name#tid". */
    static Map<String, Long> threadCpuMillis(long pid) {
        Map<String, Long> threads = new HashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks) {
                long ticks = ticks(task.resolve("stat"));
                if (ticks >= 0) {
                    String name = Files.readString(task.resolve("comm")).trim();
                    threads.put(name + "#" + task.getFileName(), ticks * 1000 / TICKS_PER_SECOND);
                }
            }
        } catch (IOException e) {
            return threads;
        }
        return threads;
    }

    /** CPU time the whole machine spent busy (every core, every process), in milliseconds. */
    static long machineBusyMillis() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
                busy += Long.parseLong(f[i]);
            }
            return busy * 1000 / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long ticks(Path stat) {
        try {
            String text = Files.readString(stat);
            // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
            String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
