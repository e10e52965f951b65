package io.signalstream.bench;

import io.signalstream.agents.local.LocalAgentProvider;
import io.signalstream.agents.local.PiiDetector;
import io.signalstream.events.ConversationSnapshot;
import io.signalstream.llm.AgentPrompt;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.List;
import java.util.Locale;

/**
 * CPU time per call of each {@code local} agent on the same real windows as {@link
 * HotPathBenchmarks} (one snapshot per message of the bundled conversations, 20-message window),
 * measured with the thread's CPU clock: a companion to the JMH throughput, which on a shared
 * machine is dominated by other processes. Each agent runs warm-up passes over all windows, then
 * three measured runs; the best run is printed, in microseconds of CPU per call. Run from the
 * repository root after the build steps in {@link HotPathBenchmarks}:
 *
 * <pre>
 * java -cp udfs/target/test-classes:udfs/target/classes:$(cat udfs/target/cp.txt) io.signalstream.bench.LocalAgentCpuTime [passes]
 * </pre>
 *
 * {@code passes} (default 4) is the number of passes over all windows per warm-up and per run.
 */
public final class LocalAgentCpuTime {

    private LocalAgentCpuTime() {}

    /**
     * @param args optional number of passes per run
     * @throws Exception if the conversations cannot be read
     */
    public static void main(String[] args) throws Exception {
        int passes = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        List<ConversationSnapshot> windows = HotPathBenchmarks.realWindows();
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long sink = 0;
        for (String agent : List.of("pii", "sentiment", "insights", "summary")) {
            double best = Double.MAX_VALUE;
            for (int run = -1; run < 3; run++) {
                long start = cpu.getCurrentThreadCpuTime();
                for (int p = 0; p < passes; p++) {
                    for (ConversationSnapshot s : windows) {
                        sink += LocalAgentProvider.run(agent, s).result().size();
                    }
                }
                double micros =
                        (cpu.getCurrentThreadCpuTime() - start)
                                / 1000.0
                                / (passes * windows.size());
                if (run >= 0) {
                    best = Math.min(best, micros);
                }
            }
            print(agent, best);
        }
        PiiDetector pii = new PiiDetector();
        double best = Double.MAX_VALUE;
        for (int run = -1; run < 3; run++) {
            long start = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < 20_000; i++) {
                sink += pii.detect(HotPathBenchmarks.TEXT).size();
            }
            double micros = (cpu.getCurrentThreadCpuTime() - start) / 1000.0 / 20_000;
            if (run >= 0) {
                best = Math.min(best, micros);
            }
        }
        print("piiRecognizers", best);

        // The summary agent's LLM prompt with PII redaction (it sends the whole window): the
        // first pass meets every message once, as a stream does (the newest message of each
        // request is new; its person names are found then and cached), later passes hit the
        // cache. The name finder's code is warm from the pii runs above.
        AgentPrompt prompt = AgentPrompt.of("summary");
        long start = cpu.getCurrentThreadCpuTime();
        for (ConversationSnapshot s : windows) {
            sink += prompt.render(s, true).redactions();
        }
        print("promptFirstSeen", (cpu.getCurrentThreadCpuTime() - start) / 1000.0 / windows.size());
        best = Double.MAX_VALUE;
        for (int run = 0; run < 3; run++) {
            start = cpu.getCurrentThreadCpuTime();
            for (ConversationSnapshot s : windows) {
                sink += prompt.render(s, true).redactions();
            }
            best =
                    Math.min(
                            best,
                            (cpu.getCurrentThreadCpuTime() - start) / 1000.0 / windows.size());
        }
        print("promptCached", best);
        System.out.println("(checksum " + sink + ")");
    }

    private static void print(String name, double micros) {
        System.out.printf(
                Locale.ROOT,
                "%-15s %8.1f us CPU/call = %8.0f calls per CPU-second%n",
                name,
                micros,
                1e6 / micros);
    }
}
